/** The whole sftpgo.json schema: one subtree per section, built fresh per load. */
import { commonSchema } from './common';
import { dataProviderSchema } from './provider';
import { httpdSchema, telemetrySchema } from './httpd';
import { commandSchema, httpClientSchema, kmsSchema, mfaSchema, smtpSchema } from './misc';
import { ftpdSchema, sftpdSchema, webdavdSchema } from './protocols';
import type { SchemaTree } from './helpers';

export function appSchema(): SchemaTree {
  return {
    common: commonSchema(),
    sftpd: sftpdSchema(),
    ftpd: ftpdSchema(),
    webdavd: webdavdSchema(),
    data_provider: dataProviderSchema(),
    httpd: httpdSchema(),
    telemetry: telemetrySchema(),
    http: httpClientSchema(),
    command: commandSchema(),
    kms: kmsSchema(),
    mfa: mfaSchema(),
    smtp: smtpSchema(),
  };
}

export { PROVIDER_DRIVERS } from './provider';
export * from './helpers';
