/** GitLab's member access levels. */
export const AccessLevel = {
  NONE: 0,
  MINIMAL: 5,
  GUEST: 10,
  PLANNER: 15,
  REPORTER: 20,
  DEVELOPER: 30,
  MAINTAINER: 40,
  OWNER: 50,
} as const;
export type AccessLevelValue = (typeof AccessLevel)[keyof typeof AccessLevel];
export const MEMBER_ACCESS_LEVELS: readonly number[] = [5, 10, 15, 20, 30, 40, 50];
