import { BooleanSetting, IntegerSetting } from '@stowage/core';
import { Type } from 'class-transformer';
import { Equals, IsOptional, IsString, IsUrl, MinLength, ValidateNested } from 'class-validator';

/**
 * `packages.object_store.connection`, GitLab's connection hash for the AWS provider. Stowage
 * talks to S3 and S3-compatible services (MinIO, Ceph…) through the AWS SDK, which signs with
 * Signature Version 4 only: `provider` and `aws_signature_version` are accepted with those
 * values, so a GitLab config carries over, and refused with any other rather than ignored.
 */
export class S3ConnectionConfig {
  @Equals('AWS', { message: 'must be AWS: Stowage stores objects through the S3 API only (AWS S3 or an S3-compatible service)' })
  provider = 'AWS';
  @IsString() region = 'us-east-1';
  @IsOptional() @IsString() aws_access_key_id?: string;
  @IsOptional() @IsString() aws_secret_access_key?: string;
  @BooleanSetting() use_iam_profile = false;
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) endpoint?: string;
  @IsOptional() @IsString() host?: string;
  @BooleanSetting() path_style = false;
  @IntegerSetting()
  @Equals(4, { message: 'must be 4: Stowage signs its requests with AWS Signature Version 4 only' })
  aws_signature_version = 4;
}

/** The `packages.object_store` keys this plugin owns (core owns `enabled` and the upload/download switches). */
export class S3StorageConfig {
  /** A bucket name, optionally followed by `/prefix`. */
  @IsString() @MinLength(1) remote_directory = 'packages';
  @ValidateNested()
  @Type(() => S3ConnectionConfig)
  connection: S3ConnectionConfig = new S3ConnectionConfig();
}
