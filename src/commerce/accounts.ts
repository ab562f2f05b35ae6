// Customers and staff: registration, sign-in with per-account throttling, passwords, roles and API tokens.
import { createHash } from 'node:crypto'
import type { Clock } from '../core/clock.ts'
import {
  AccountLocked,
  Forbidden,
  InvalidApiToken,
  InvalidCredentials,
  isEmporiumError,
  NotFound,
  ValidationFailed,
} from '../core/errors.ts'
import { newId, randomSecret } from '../core/ids.ts'
import type { ApiToken, Role, User } from './model.ts'
import type { PasswordHasher } from './passwords.ts'
import type { CommerceStore } from './store/commerce-store.ts'
import { checkPassword, cleanText, normalizeEmail } from './validation.ts'

export interface AccountPolicy {
  /** Failed sign-ins per account inside the window before it is locked for the rest of the window. */
  maxFailedLogins: number
  failedLoginWindowMs: number
}

export type PublicUser = Pick<User, 'id' | 'email' | 'name' | 'role' | 'createdAt'>

export const publicUser = (u: User): PublicUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt,
})

export const API_TOKEN_PREFIX = 'emp_'
export const hashApiToken = (secret: string): string => createHash('sha256').update(secret).digest('hex')

export type Permission =
  | 'catalog:write'
  | 'orders:manage'
  | 'refunds:decide'
  | 'users:manage'
  | 'analytics:read'
  | 'ops:read'

const PERMISSIONS: Record<Role, readonly Permission[]> = {
  customer: [],
  staff: ['catalog:write', 'orders:manage', 'refunds:decide', 'ops:read'],
  analyst: ['analytics:read'],
  admin: ['catalog:write', 'orders:manage', 'refunds:decide', 'users:manage', 'analytics:read', 'ops:read'],
}

export const can = (user: Pick<User, 'role'> | null | undefined, permission: Permission): boolean =>
  !!user && PERMISSIONS[user.role].includes(permission)

export class Accounts {
  private dummyHash: Promise<string> | undefined

  constructor(
    private readonly store: CommerceStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly policy: AccountPolicy,
  ) {}

  async register(input: { email: string; password: string; name: string; role?: Role }): Promise<User> {
    const email = normalizeEmail(input.email)
    const name = cleanText(input.name, 'name', 100)
    checkPassword(input.password, 'password', email)
    const now = this.clock.now().toISOString()
    const user: User = {
      id: newId('usr'),
      email,
      name,
      passwordHash: await this.hasher.hash(input.password),
      role: input.role ?? 'customer',
      createdAt: now,
      updatedAt: now,
    }
    try {
      await this.store.createUser(user)
    } catch (e) {
      throw isEmporiumError(e) && e.code === 'EMP_EMAIL_TAKEN' ? e.withFields({ email: e.message }) : e
    }
    return user
  }

  /** Verifies a password; the same work is done for unknown e-mails so timing does not reveal accounts. */
  async login(input: { email: string; password: string }): Promise<User> {
    let email: string
    try {
      email = normalizeEmail(input.email)
    } catch {
      throw new InvalidCredentials()
    }
    const user = await this.store.getUserByEmail(email)
    if (!user) {
      this.dummyHash ??= this.hasher.hash(randomSecret(16))
      await this.hasher.verify(await this.dummyHash, input.password)
      throw new InvalidCredentials()
    }
    const now = this.clock.now()
    const { maxFailedLogins, failedLoginWindowMs } = this.policy
    const failures = await this.store.failedLoginCount(user.id, now, failedLoginWindowMs)
    if (failures >= maxFailedLogins) throw new AccountLocked(Math.ceil(failedLoginWindowMs / 60_000))
    if (!(await this.hasher.verify(user.passwordHash, input.password))) {
      const count = await this.store.recordFailedLogin(user.id, now, failedLoginWindowMs)
      if (count >= maxFailedLogins) throw new AccountLocked(Math.ceil(failedLoginWindowMs / 60_000))
      throw new InvalidCredentials()
    }
    if (failures > 0) await this.store.clearFailedLogins(user.id)
    return user
  }

  async getUser(id: string): Promise<User | null> {
    return this.store.getUserById(id)
  }

  async changePassword(userId: string, current: string, next: string): Promise<void> {
    const user = await this.store.getUserById(userId)
    if (!user) throw new NotFound('User')
    if (!(await this.hasher.verify(user.passwordHash, current)))
      throw new InvalidCredentials().withFields({ currentPassword: 'This is not your current password' })
    checkPassword(next, 'newPassword', user.email)
    if (current === next)
      throw new ValidationFailed('The new password must differ from the current one').withFields({
        newPassword: 'Choose a different password',
      })
    await this.store.updateUser(userId, { passwordHash: await this.hasher.hash(next) }, this.clock.now().toISOString())
  }

  async setRole(actor: User, userId: string, role: Role): Promise<User> {
    if (!can(actor, 'users:manage')) throw new Forbidden()
    if (actor.id === userId && role !== 'admin')
      throw new ValidationFailed('You cannot remove your own admin role').withFields({ role: 'Ask another admin' })
    const updated = await this.store.updateUser(userId, { role }, this.clock.now().toISOString())
    if (!updated) throw new NotFound('User')
    return updated
  }

  /** Creates a personal API token; the secret is returned once and only its hash is stored. */
  async createApiToken(userId: string, rawName: string): Promise<{ token: ApiToken; secret: string }> {
    const name = cleanText(rawName, 'name', 80)
    const existing = await this.store.listApiTokens(userId)
    if (existing.filter((t) => !t.revokedAt).length >= 20)
      throw new ValidationFailed('At most 20 active API tokens per account; revoke one first').withFields({
        name: 'Too many active tokens',
      })
    const secret = `${API_TOKEN_PREFIX}${randomSecret(32)}`
    const token: ApiToken = {
      id: newId('tok'),
      userId,
      name,
      tokenHash: hashApiToken(secret),
      prefix: secret.slice(0, 10),
      createdAt: this.clock.now().toISOString(),
      revokedAt: null,
    }
    await this.store.createApiToken(token)
    return { token, secret }
  }

  async listApiTokens(userId: string): Promise<ApiToken[]> {
    return this.store.listApiTokens(userId)
  }

  async revokeApiToken(userId: string, tokenId: string): Promise<void> {
    if (!(await this.store.revokeApiToken(userId, tokenId, this.clock.now().toISOString())))
      throw new NotFound('API token')
  }

  async authenticateApiToken(secret: string): Promise<User> {
    if (!secret.startsWith(API_TOKEN_PREFIX) || secret.length > 200) throw new InvalidApiToken()
    const user = await this.store.getUserByActiveTokenHash(hashApiToken(secret))
    if (!user) throw new InvalidApiToken()
    return user
  }
}
