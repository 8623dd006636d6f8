/**
 * `medusa exec ./src/scripts/seed.js`: everything a guest order needs, made with Medusa's
 * core workflows. Idempotent: each step looks for what it would create (by name, handle or
 * title) and skips it when found, so the seed Job can run again on every rollout.
 *
 * Environment (set by the medusa-store chart): SEED_STORE_NAME, SEED_CURRENCY (e.g. "eur"),
 * SEED_COUNTRIES (e.g. "de,fr"). Prices are in major units (19 = 19.00).
 */
import { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules, ProductStatus } from "@medusajs/framework/utils"
import {
  createApiKeysWorkflow,
  createInventoryLevelsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
  createShippingOptionsWorkflow,
  createShippingProfilesWorkflow,
  createStockLocationsWorkflow,
  createTaxRegionsWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} from "@medusajs/medusa/core-flows"

const SALES_CHANNEL = "Default Sales Channel"
const REGION = "Storeplane region"
const LOCATION = "Storeplane warehouse"
const FULFILLMENT_SET = "Storeplane shipping"
const SHIPPING_OPTION = "Standard shipping"
const API_KEY = "Storefront"
const PRODUCT_HANDLE = "storeplane-sample"
const FULFILLMENT_PROVIDER = "manual_manual"
const PAYMENT_PROVIDER = "pp_system_default"
const TAX_PROVIDER = "tp_system"

export default async function seed({ container }: ExecArgs): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const link = container.resolve(ContainerRegistrationKeys.LINK)
  const storeModule = container.resolve(Modules.STORE)
  const salesChannelModule = container.resolve(Modules.SALES_CHANNEL)
  const regionModule = container.resolve(Modules.REGION)
  const taxModule = container.resolve(Modules.TAX)
  const stockLocationModule = container.resolve(Modules.STOCK_LOCATION)
  const fulfillmentModule = container.resolve(Modules.FULFILLMENT)
  const apiKeyModule = container.resolve(Modules.API_KEY)
  const productModule = container.resolve(Modules.PRODUCT)
  const inventoryModule = container.resolve(Modules.INVENTORY)

  const currency = (process.env.SEED_CURRENCY || "eur").toLowerCase()
  const countries = (process.env.SEED_COUNTRIES || "de")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean)
  const storeName = process.env.SEED_STORE_NAME || "Storeplane store"

  // Sales channel and store settings.
  let [channel] = await salesChannelModule.listSalesChannels({ name: SALES_CHANNEL })
  if (!channel) {
    const { result } = await createSalesChannelsWorkflow(container).run({
      input: { salesChannelsData: [{ name: SALES_CHANNEL }] },
    })
    channel = result[0]
  }
  const [store] = await storeModule.listStores()
  await updateStoresWorkflow(container).run({
    input: {
      selector: { id: store.id },
      update: {
        name: storeName,
        supported_currencies: [{ currency_code: currency, is_default: true }],
        default_sales_channel_id: channel.id,
      },
    },
  })

  // Region with the system payment provider, and tax regions for its countries.
  let [region] = await regionModule.listRegions({ name: REGION })
  if (!region) {
    const { result } = await createRegionsWorkflow(container).run({
      input: {
        regions: [
          {
            name: REGION,
            currency_code: currency,
            countries,
            payment_providers: [PAYMENT_PROVIDER],
          },
        ],
      },
    })
    region = result[0]
  }
  const taxRegions = await taxModule.listTaxRegions({ country_code: countries })
  const taxed = new Set(taxRegions.map((t) => t.country_code))
  const untaxed = countries.filter((c) => !taxed.has(c))
  if (untaxed.length) {
    await createTaxRegionsWorkflow(container).run({
      input: untaxed.map((country_code) => ({ country_code, provider_id: TAX_PROVIDER })),
    })
  }

  // Stock location, shipped from by the manual fulfillment provider.
  let [location] = await stockLocationModule.listStockLocations({ name: LOCATION })
  if (!location) {
    const { result } = await createStockLocationsWorkflow(container).run({
      input: {
        locations: [{ name: LOCATION, address: { address_1: "", city: "", country_code: countries[0] } }],
      },
    })
    location = result[0]
    await link.create({
      [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
      [Modules.FULFILLMENT]: { fulfillment_provider_id: FULFILLMENT_PROVIDER },
    })
    await linkSalesChannelsToStockLocationWorkflow(container).run({
      input: { id: location.id, add: [channel.id] },
    })
  }

  // Shipping: profile, fulfillment set with one service zone, a flat shipping option.
  let [profile] = await fulfillmentModule.listShippingProfiles({ type: "default" })
  if (!profile) {
    const { result } = await createShippingProfilesWorkflow(container).run({
      input: { data: [{ name: "Default Shipping Profile", type: "default" }] },
    })
    profile = result[0]
  }
  let [fulfillmentSet] = await fulfillmentModule.listFulfillmentSets(
    { name: FULFILLMENT_SET },
    { relations: ["service_zones"] }
  )
  if (!fulfillmentSet) {
    fulfillmentSet = await fulfillmentModule.createFulfillmentSets({
      name: FULFILLMENT_SET,
      type: "shipping",
      service_zones: [
        {
          name: REGION,
          geo_zones: countries.map((country_code) => ({ country_code, type: "country" as const })),
        },
      ],
    })
    await link.create({
      [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
      [Modules.FULFILLMENT]: { fulfillment_set_id: fulfillmentSet.id },
    })
  }
  const [option] = await fulfillmentModule.listShippingOptions({ name: SHIPPING_OPTION })
  if (!option) {
    await createShippingOptionsWorkflow(container).run({
      input: [
        {
          name: SHIPPING_OPTION,
          price_type: "flat",
          provider_id: FULFILLMENT_PROVIDER,
          service_zone_id: fulfillmentSet.service_zones[0].id,
          shipping_profile_id: profile.id,
          type: { label: "Standard", description: "Delivered in 2-4 days.", code: "standard" },
          prices: [
            { currency_code: currency, amount: 5 },
            { region_id: region.id, amount: 5 },
          ],
          rules: [
            { attribute: "enabled_in_store", value: "true", operator: "eq" },
            { attribute: "is_return", value: "false", operator: "eq" },
          ],
        },
      ],
    })
  }

  // Publishable API key for the storefront, scoped to the sales channel.
  let [apiKey] = await apiKeyModule.listApiKeys({ title: API_KEY, type: "publishable" })
  if (!apiKey) {
    const { result } = await createApiKeysWorkflow(container).run({
      input: { api_keys: [{ title: API_KEY, type: "publishable", created_by: "" }] },
    })
    apiKey = result[0]
    await linkSalesChannelsToApiKeyWorkflow(container).run({
      input: { id: apiKey.id, add: [channel.id] },
    })
  }

  // One published product with a priced variant, in stock at the location.
  const [product] = await productModule.listProducts({ handle: PRODUCT_HANDLE })
  if (!product) {
    await createProductsWorkflow(container).run({
      input: {
        products: [
          {
            title: "Storeplane T-Shirt",
            handle: PRODUCT_HANDLE,
            status: ProductStatus.PUBLISHED,
            shipping_profile_id: profile.id,
            options: [{ title: "Size", values: ["One size"] }],
            variants: [
              {
                title: "One size",
                sku: PRODUCT_HANDLE,
                options: { Size: "One size" },
                manage_inventory: true,
                prices: [{ currency_code: currency, amount: 19 }],
              },
            ],
            sales_channels: [{ id: channel.id }],
          },
        ],
      },
    })
  }
  const items = await inventoryModule.listInventoryItems({ sku: PRODUCT_HANDLE })
  const levels = await inventoryModule.listInventoryLevels({ location_id: location.id })
  const stocked = new Set(levels.map((l) => l.inventory_item_id))
  const missing = items.filter((item) => !stocked.has(item.id))
  if (missing.length) {
    await createInventoryLevelsWorkflow(container).run({
      input: {
        inventory_levels: missing.map((item) => ({
          location_id: location.id,
          inventory_item_id: item.id,
          stocked_quantity: 1000000,
        })),
      },
    })
  }

  logger.info(
    `seeded: region ${region.id} (${currency}, ${countries.join(",")}), product ${PRODUCT_HANDLE}, ` +
      `publishable key "${API_KEY}" (GET /admin/api-keys)`
  )
}
