import { IsOptional, IsString, MinLength } from 'class-validator';

/** The `packages` key this plugin owns. */
export class LocalStorageConfig {
  /** Where blobs are kept; `<data_dir>/packages` when absent, relative paths from the working directory. */
  @IsOptional() @IsString() @MinLength(1) storage_path?: string;
}
