/**
 * `medusa exec ./src/scripts/has-admin.js`: exit 0 when an admin user with ADMIN_EMAIL exists,
 * exit 3 when not (the seed Job then runs `medusa user`, which fails on an existing e-mail).
 * Any other failure (database down...) exits 1 through `medusa exec`.
 */
import { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

export const NO_ADMIN_EXIT_CODE = 3

export default async function hasAdmin({ container }: ExecArgs): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const email = process.env.ADMIN_EMAIL
  if (!email) {
    throw new Error("ADMIN_EMAIL is not set (the medusa-store chart's seed Job sets it)")
  }
  const users = await container.resolve(Modules.USER).listUsers({ email })
  if (users.length === 0) {
    logger.info(`no admin user ${email} yet`)
    process.exit(NO_ADMIN_EXIT_CODE)
  }
}
