/** SFTPGo's filesystem.provider numbers (sdk.FilesystemProvider). */
export const PROVIDER = { local: 0, s3: 1, gcs: 2, azblob: 3, crypt: 4, sftp: 5, http: 6 } as const;

export const PROVIDER_NAMES: Readonly<Record<number, string>> = {
  0: 'local', 1: 'S3', 2: 'Google Cloud Storage', 3: 'Azure Blob', 4: 'encrypted local', 5: 'SFTP', 6: 'HTTP',
};
