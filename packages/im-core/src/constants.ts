/**
 * `@imvault/im-core/constants`: plain values with no dependencies, for code that must not load the
 * library. The deploy-time infrastructure (infra/) imports this entry rather than the package root:
 * SST bundles what infra/ imports, and everything reachable from a module imported inside `run()`
 * stays in that bundle, so the root would bring the whole domain (and valibot) into the deploy.
 */
export { CHAT_TYPES, type ChatType, REGIONS, type Region } from "./im/types.ts";
export { COMPLIANCE_CONFIRMATION, DEFAULTS, EXPORT_LIMITS, LIMITS } from "./schemas/limits.ts";
