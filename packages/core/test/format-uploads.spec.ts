import 'reflect-metadata';

import { Readable } from 'node:stream';

import { FormatConfig } from '../src/config/stowage-config';
import { HttpError } from '../src/http/http-error';
import { fileSizeLimit, FormatUploadService } from '../src/packages/format-uploads';
import type { PackageService } from '../src/packages/package.service';
import type { FileStorage } from '../src/storage/file-storage.service';
import { SizeLimitExceededError } from '../src/storage/hashing-meter';

class DemoUploads extends FormatUploadService {
  declared(length: number | undefined, overhead?: number) {
    this.refuseDeclaredLength(length, overhead);
  }
  put(body: Readable, opts?: { maxSize?: number }) {
    return this.store(body, opts);
  }
  get limit() {
    return this.maxSize;
  }
}

function uploads(maxFileSize: number, store: FileStorage['store'] = async () => ({}) as never) {
  const config = Object.assign(new FormatConfig(), { max_file_size: maxFileSize });
  const storage = { store: jest.fn(store) } as unknown as FileStorage;
  return { service: new DemoUploads({} as PackageService, storage, { config }), storage };
}

describe('FormatUploadService', () => {
  it('reads max_file_size 0 as no limit', () => {
    expect(fileSizeLimit({ max_file_size: 0 })).toBe(Infinity);
    expect(uploads(0).service.limit).toBe(Infinity);
    expect(uploads(10).service.limit).toBe(10);
  });

  it("refuses a declared length over the limit (plus the envelope's overhead) with the format's tooLarge()", () => {
    const { service } = uploads(10);
    expect(() => service.declared(11)).toThrow(HttpError);
    expect(() => service.declared(11)).toThrow('File is too large');
    expect(() => service.declared(10)).not.toThrow();
    expect(() => service.declared(15, 5)).not.toThrow();
    expect(() => service.declared(undefined)).not.toThrow();
    expect(() => uploads(0).service.declared(Number.MAX_SAFE_INTEGER)).not.toThrow();
  });

  it('stores with the limit (or a smaller one given) and turns its overrun into tooLarge()', async () => {
    const { service, storage } = uploads(10, async () => {
      throw new SizeLimitExceededError(10);
    });
    await expect(service.put(Readable.from([]))).rejects.toThrow('File is too large');
    expect(storage.store).toHaveBeenLastCalledWith(expect.anything(), { maxSize: 10 });
    await expect(service.put(Readable.from([]), { maxSize: 4 })).rejects.toBeInstanceOf(HttpError);
    expect(storage.store).toHaveBeenLastCalledWith(expect.anything(), { maxSize: 4 });
  });
});
