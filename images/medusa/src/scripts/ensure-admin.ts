/**
 * `medusa exec ./src/scripts/ensure-admin.js`: make sure the admin ADMIN_EMAIL can log in with
 * ADMIN_PASSWORD. The seed Job runs it before `medusa user`, which fails on an existing e-mail.
 *
 * - exit 0: the admin can log in, or was repaired. `medusa user` creates the user, then its
 *   login (an `emailpass` identity), then links the two; a seed pod cut short in between leaves
 *   a user nobody can log in as ("Invalid email or password" for ever, since a later seed saw
 *   the user and skipped `medusa user`). The missing login is registered, the link made.
 * - exit 3: there is no such user yet (the seed Job then runs `medusa user`).
 * - exit 1 (any error, through `medusa exec`): the database is down, or a login for the e-mail
 *   exists with another password (the store's Secret was changed by hand: a person must look).
 */
import { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

export const NO_ADMIN_EXIT_CODE = 3
const PROVIDER = "emailpass"

function required(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set (the medusa-store chart's seed Job sets it)`)
  }
  return value
}

export default async function ensureAdmin({ container }: ExecArgs): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const email = required("ADMIN_EMAIL")
  const password = required("ADMIN_PASSWORD")
  const [user] = await container.resolve(Modules.USER).listUsers({ email })
  if (!user) {
    logger.info(`no admin user ${email} yet`)
    process.exit(NO_ADMIN_EXIT_CODE)
  }
  const auth = container.resolve(Modules.AUTH)
  const input = { body: { email, password } }
  const logins = await auth.listProviderIdentities({ provider: PROVIDER, entity_id: email })
  const result =
    logins.length === 0 ? await auth.register(PROVIDER, input) : await auth.authenticate(PROVIDER, input)
  if (!result.success || !result.authIdentity) {
    throw new Error(
      `the admin user ${email} exists but cannot log in with the store's password: ` +
        (result.error ?? "no login identity")
    )
  }
  if (logins.length === 0) {
    logger.warn(`admin user ${email} had no login (a seed stopped half-way): registered it`)
  }
  const identity = result.authIdentity
  if (identity.app_metadata?.user_id !== user.id) {
    await auth.updateAuthIdentities({
      id: identity.id,
      app_metadata: { ...identity.app_metadata, user_id: user.id },
    })
    logger.warn(`admin user ${email}'s login was not linked to the user: linked it`)
  }
  logger.info(`admin user ${email} can log in`)
}
