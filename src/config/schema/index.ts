/** The whole sftpgo.json schema: one subtree per section, built fresh per load. */
import { commonSchema } from './common';
import { dataProviderSchema } from './provider';
import { httpdSchema, telemetrySchema } from './httpd';
import { commandSchema, httpClientSchema, kmsSchema, mfaSchema } from './misc';
import { acmeSchema, pluginsSchema, smtpSchema } from './ops';
import { ftpdSchema, sftpdSchema, webdavdSchema } from './protocols';
import { ldapSchema } from './ldap';
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
    acme: acmeSchema(),
    ...pluginsSchema(),
    ldap: ldapSchema(),
  };
}

export { PROVIDER_DRIVERS } from './provider';
export * from './helpers';
