/**
 * Groups and roles above the stores (SFTPGo's dataprovider AddGroup/
 * DeleteGroup/AddRole/DeleteRole...): validation, the references users and
 * admins hold, the refusals of deleting what is still in use, and the group
 * merge every login goes through.
 */
import { FsError } from '../common/errors';
import type { AppLogger } from '../logger/types';
import { applyGroupSettings, hasSettingsFromGroups } from './groups-merge';
import { type Admin, type Group, GROUP_TYPE, type Role, type User, type VirtualFolder } from './models';
import type { DataProviderBackend, FolderStore, GroupStore, ListOptions, RoleStore } from './provider';
import type { Executor } from './types';
import { isObj, validateGroup, validateRole, ValidationError } from './validation';

const SENDER = 'dataprovider';

export interface GroupsHost {
  readonly backend: DataProviderBackend;
  resolveFolders(folders: readonly VirtualFolder[] | undefined, tx: FolderStore): Promise<VirtualFolder[]>;
}

/** A user's groups and role must exist: a 400 naming the field, checked inside the write's transaction. */
export async function checkUserRefs(tx: GroupStore & RoleStore, u: Pick<User, 'groups' | 'role'>): Promise<void> {
  for (const [i, g] of (u.groups ?? []).entries()) {
    if (!(await tx.getGroup(g.name))) throw new ValidationError(`groups[${i}].name: group "${g.name}" does not exist`);
  }
  if (u.role && !(await tx.getRole(u.role))) throw new ValidationError(`role: role "${u.role}" does not exist`);
}

export async function checkAdminRefs(tx: GroupStore & RoleStore, a: Pick<Admin, 'role' | 'groups'>): Promise<void> {
  for (const [i, g] of (a.groups ?? []).entries()) {
    if (!(await tx.getGroup(g.name))) throw new ValidationError(`groups[${i}].name: group "${g.name}" does not exist`);
  }
  if (a.role && !(await tx.getRole(a.role))) throw new ValidationError(`role: role "${a.role}" does not exist`);
}

export class GroupsService {
  constructor(private readonly host: GroupsHost, private readonly namingRules: () => number, private readonly log: AppLogger) {}

  private get backend(): DataProviderBackend { return this.host.backend; }

  async addGroup(input: unknown, executor?: Executor): Promise<Group> {
    const g = validateGroup(input, this.namingRules());
    const now = Date.now();
    const stored = await this.backend.transaction(async (tx) => {
      const virtual_folders = await this.host.resolveFolders(g.virtual_folders, tx);
      return tx.addGroup({ ...g, virtual_folders, created_at: now, updated_at: now });
    });
    this.log.info(SENDER, `group "${g.name}" added`, { executor: executor?.username, ip: executor?.ip });
    return stored;
  }

  async updateGroup(name: string, input: unknown, executor?: Executor): Promise<Group> {
    if (!isObj(input)) throw new ValidationError('group must be a JSON object');
    // the path names the group, as SFTPGo's PUT
    const g = validateGroup({ ...input, name }, this.namingRules() & ~2 & ~4 | 1);
    g.name = name;
    const stored = await this.backend.transaction(async (tx) => {
      if (!(await tx.getGroup(name))) throw new FsError('NotFound', `group "${name}" does not exist`);
      const virtual_folders = await this.host.resolveFolders(g.virtual_folders, tx);
      return tx.updateGroup({ ...g, virtual_folders, updated_at: Date.now() });
    });
    this.log.info(SENDER, `group "${name}" updated`, { executor: executor?.username, ip: executor?.ip });
    return stored;
  }

  async deleteGroup(name: string, executor?: Executor): Promise<void> {
    await this.backend.transaction(async (tx) => {
      const group = await tx.getGroup(name);
      if (!group) throw new FsError('NotFound', `group "${name}" does not exist`);
      if ((group.users ?? []).length > 0) throw new ValidationError(`the group "${name}" is referenced, it cannot be removed`);
      await tx.deleteGroup(name);
    });
    this.log.info(SENDER, `group "${name}" deleted`, { executor: executor?.username, ip: executor?.ip });
  }

  getGroup(name: string): Promise<Group | undefined> { return this.backend.getGroup(name); }
  listGroups(opts?: ListOptions): Promise<Group[]> { return this.backend.listGroups(opts); }

  async addRole(input: unknown, executor?: Executor): Promise<Role> {
    const r = validateRole(input, this.namingRules());
    const now = Date.now();
    const stored = await this.backend.addRole({ ...r, created_at: now, updated_at: now });
    this.log.info(SENDER, `role "${r.name}" added`, { executor: executor?.username, ip: executor?.ip });
    return stored;
  }

  async updateRole(name: string, input: unknown, executor?: Executor): Promise<Role> {
    if (!isObj(input)) throw new ValidationError('role must be a JSON object');
    const r = validateRole({ ...input, name }, this.namingRules() & ~2 & ~4 | 1);
    const stored = await this.backend.updateRole({ ...r, name, updated_at: Date.now() });
    this.log.info(SENDER, `role "${name}" updated`, { executor: executor?.username, ip: executor?.ip });
    return stored;
  }

  /** As SFTPGo: refused while admins hold the role; its users simply lose it. */
  async deleteRole(name: string, executor?: Executor): Promise<void> {
    await this.backend.transaction(async (tx) => {
      const role = await tx.getRole(name);
      if (!role) throw new FsError('NotFound', `role "${name}" does not exist`);
      if ((role.admins ?? []).length > 0) throw new ValidationError(`the role "${name}" is referenced, it cannot be removed`);
      await tx.deleteRole(name);
    });
    this.log.info(SENDER, `role "${name}" deleted`, { executor: executor?.username, ip: executor?.ip });
  }

  getRole(name: string): Promise<Role | undefined> { return this.backend.getRole(name); }
  listRoles(opts?: ListOptions): Promise<Role[]> { return this.backend.listRoles(opts); }

  /** The user as every protocol sees it: its primary and secondary groups' settings applied. */
  async withGroupSettings(user: User): Promise<User> {
    if (!hasSettingsFromGroups(user)) return user;
    const names = (user.groups ?? []).filter((g) => g.type !== GROUP_TYPE.membership).map((g) => g.name);
    const groups = await this.backend.getGroupsByName(names);
    return applyGroupSettings(user, new Map(groups.map((g) => [g.name, g])));
  }
}
