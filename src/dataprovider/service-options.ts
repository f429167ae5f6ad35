/** What ProviderService is built with (service/app.ts, dataprovider/index.ts, test harnesses). */
import type { DataProviderConfig } from '../config/types';
import type { AppLogger } from '../logger/types';
import type { SecretsKms } from '../kms/types';
import type { PasswordHashingConfig } from './passwords';
import type { DataProviderBackend } from './provider';
import type { AccountSecrets } from './secrets';

/** The config keys the service reads (a subset of DataProviderConfig). */
export type ServiceConfig = Pick<DataProviderConfig, 'naming_rules' | 'users_base_dir' | 'password_caching' | 'create_default_admin'> & {
  password_hashing: PasswordHashingConfig;
};

export interface ServiceOptions {
  backend: DataProviderBackend;
  config: ServiceConfig;
  logger: AppLogger;
  env?: NodeJS.ProcessEnv;
  /** kms + mfa.totp: without it, no TOTP configuration exists and enabled ones are refused */
  secrets?: AccountSecrets;
  /** seals storage secrets on save; without it a plain storage secret is refused */
  kms?: SecretsKms;
}
