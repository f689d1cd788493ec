/**
 * Recording fakes of the SST/Pulumi globals that sst.config.ts uses ($config, $app, $interpolate,
 * $jsonStringify, sst.*, aws.*). SST has no dry run, so test/infra.test.ts evaluates the config's
 * run() against these and asserts the wiring from what was recorded.
 *
 * Outputs are modelled as FakeOutput (an already-resolved value with apply()); `resolved()` turns any
 * recorded args into plain data. Component names follow SST's rule (unique among top-level SST
 * components, case-insensitively; "App" reserved), so a clash fails here as it would in `sst deploy`.
 */

export class FakeOutput<T> {
  readonly value: T;
  constructor(value: T) {
    this.value = value;
  }
  apply<U>(fn: (value: T) => U): FakeOutput<U> {
    const next = fn(this.value);
    return next instanceof FakeOutput ? next : new FakeOutput(next);
  }
}

const out = <T>(value: T) => new FakeOutput(value);

export interface Recorded {
  /** e.g. "sst.aws.Function", "aws.cloudwatch.MetricAlarm" */
  type: string;
  name: string;
  args: Record<string, unknown>;
  component: object;
}

/** Deep-resolves FakeOutputs; components become `{ $ref: "<type>:<name>" }`. */
export function resolved(value: unknown, registry: Recorder): unknown {
  if (value instanceof FakeOutput) return resolved(value.value, registry);
  if (Array.isArray(value)) return value.map((v) => resolved(v, registry));
  if (value !== null && typeof value === "object") {
    const rec = registry.byComponent.get(value);
    if (rec !== undefined) return { $ref: `${rec.type}:${rec.name}` };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v, registry)]));
  }
  return value;
}

export class Recorder {
  readonly records: Recorded[] = [];
  readonly byComponent = new Map<object, Recorded>();
  /** queue name → subscribe() arguments */
  readonly subscriptions: { queue: string; subscriber: unknown; args: Record<string, unknown> }[] = [];
  /** api name → route() arguments */
  readonly routes: { api: string; route: string; handler: unknown; args: unknown }[] = [];
  private readonly sstNames = new Set<string>();

  record(type: string, name: string, args: unknown, component: object): void {
    if (type.startsWith("sst.")) {
      const lc = name.toLowerCase();
      if (lc === "app") throw new Error(`Component name "${name}" is reserved.`);
      if (this.sstNames.has(lc)) throw new Error(`Component name ${name} is not unique.`);
      this.sstNames.add(lc);
    }
    const rec = { type, name, args: (args ?? {}) as Record<string, unknown>, component };
    this.records.push(rec);
    this.byComponent.set(component, rec);
  }

  all(type: string): Recorded[] {
    return this.records.filter((r) => r.type === type);
  }

  one(type: string, name: string): Recorded {
    const found = this.records.find((r) => r.type === type && r.name === name);
    if (found === undefined) throw new Error(`no ${type} named ${name} was created`);
    return found;
  }

  /** Plain-data args of a recorded component. */
  args(type: string, name: string): Record<string, unknown> {
    return resolved(this.one(type, name).args, this) as Record<string, unknown>;
  }
}

/** Installs the globals on globalThis; returns the recorder and a function removing them again. */
export function installSstFakes(app: { stage: string }): { recorder: Recorder; uninstall: () => void } {
  const recorder = new Recorder();
  const g = globalThis as Record<string, unknown>;
  const before = new Map(
    ["$config", "$app", "$interpolate", "$jsonStringify", "sst", "aws"].map((k) => [k, g[k]]),
  );

  const component = (type: string, fields: (name: string, args: Record<string, unknown>) => object) =>
    class {
      constructor(name: string, args: Record<string, unknown> = {}) {
        Object.assign(this, fields(name, args));
        recorder.record(type, name, args, this);
      }
    };
  const arn = (service: string, name: string) => out(`arn:aws:${service}:eu-west-1:123456789012:${name}`);

  const Queue = component("sst.aws.Queue", (name) => ({
    arn: arn("sqs", name),
    url: out(`https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`),
    nodes: { queue: { name: out(`imvault-${app.stage}-${name}Queue`) } },
    subscribe(subscriber: unknown, args: Record<string, unknown> = {}) {
      recorder.subscriptions.push({ queue: name, subscriber, args });
      return out({});
    },
  }));
  const ApiGatewayV2 = component("sst.aws.ApiGatewayV2", (name) => ({
    url: out(`https://${name.toLowerCase()}.execute-api.eu-west-1.amazonaws.com`),
    route(route: string, handler: unknown, args?: unknown) {
      recorder.routes.push({ api: name, route, handler, args });
      return {};
    },
  }));

  g.$config = (input: unknown) => input;
  g.$app = { name: "imvault", stage: app.stage };
  g.$interpolate = (strings: TemplateStringsArray, ...values: unknown[]) =>
    out(
      strings.reduce(
        (acc, s, i) => acc + s + (i < values.length ? String(resolved(values[i], recorder)) : ""),
        "",
      ),
    );
  g.$jsonStringify = (value: unknown) => out(JSON.stringify(resolved(value, recorder)));
  g.sst = {
    Secret: component("sst.sst.Secret", (name) => ({ value: out(`<${name} value>`) })),
    Linkable: component("sst.sst.Linkable", (_name, args) => ({ properties: args.properties })),
    aws: {
      Bucket: component("sst.aws.Bucket", (name) => ({
        name: out(`imvault-${app.stage}-${name.toLowerCase()}-abc123`),
        arn: out(`arn:aws:s3:::imvault-${app.stage}-${name.toLowerCase()}-abc123`),
      })),
      Queue,
      Function: component("sst.aws.Function", (name) => ({
        arn: arn("lambda", `function:${name}`),
        name: out(`imvault-${app.stage}-${name}Function-abc123`),
        nodes: {
          role: { arn: out(`arn:aws:iam::123456789012:role/imvault-${app.stage}-${name}Role-abc123`) },
        },
      })),
      CronV2: component("sst.aws.CronV2", () => ({})),
      Cron: component("sst.aws.Cron", () => ({})),
      ApiGatewayV2,
      SnsTopic: component("sst.aws.SnsTopic", (name) => ({ arn: arn("sns", name) })),
    },
  };
  g.aws = {
    getRegionOutput: () => ({ region: out("eu-west-1") }),
    getCallerIdentityOutput: () => ({ accountId: out("123456789012") }),
    kms: {
      Key: component("aws.kms.Key", (name) => ({
        arn: arn("kms", `key/${name}`),
        id: out(`${name}-key-id`),
      })),
      KeyPolicy: component("aws.kms.KeyPolicy", () => ({})),
    },
    s3: {
      BucketObjectLockConfiguration: component("aws.s3.BucketObjectLockConfiguration", () => ({})),
      BucketServerSideEncryptionConfiguration: component(
        "aws.s3.BucketServerSideEncryptionConfiguration",
        () => ({}),
      ),
      BucketLifecycleConfiguration: component("aws.s3.BucketLifecycleConfiguration", () => ({})),
    },
    sns: { TopicSubscription: component("aws.sns.TopicSubscription", () => ({})) },
    glue: {
      CatalogDatabase: component("aws.glue.CatalogDatabase", (_name, args) => ({
        name: out(args.name),
        arn: arn("glue", `database/${String(args.name)}`),
      })),
      CatalogTable: component("aws.glue.CatalogTable", (_name, args) => ({
        name: out(args.name),
        arn: (args.databaseName as FakeOutput<string>).apply(
          (db) => `arn:aws:glue:eu-west-1:123456789012:table/${db}/${String(args.name)}`,
        ),
      })),
    },
    athena: {
      Workgroup: component("aws.athena.Workgroup", (_name, args) => ({
        name: out(args.name),
        arn: arn("athena", `workgroup/${String(args.name)}`),
      })),
    },
    cloudwatch: {
      MetricAlarm: component("aws.cloudwatch.MetricAlarm", (name) => ({
        arn: arn("cloudwatch", `alarm:${name}`),
      })),
      Dashboard: component("aws.cloudwatch.Dashboard", () => ({})),
    },
  };

  const uninstall = () => {
    for (const [k, v] of before) {
      if (v === undefined) delete g[k];
      else g[k] = v;
    }
  };
  return { recorder, uninstall };
}

/** What an sst.config.ts default-exports: the result of `$config({ app, run })`. */
export interface SstConfig {
  app(input: { stage: string }): { name: string; home: string; removal: string; protect: boolean };
  run(): Promise<Record<string, unknown>>;
}

/**
 * Imports an sst.config.ts with the fakes installed (it calls `$config` as it loads). The specifier
 * is not a literal, so the root tsconfig does not try to type-check the config (that is
 * scripts/check-infra.sh's job, against SST's real platform types).
 */
export async function importSstConfig(url: URL): Promise<SstConfig> {
  const { uninstall } = installSstFakes({ stage: "import" });
  try {
    return ((await import(url.href)) as { default: SstConfig }).default;
  } finally {
    uninstall();
  }
}

/** The deploy-time variables infra/settings.ts reads: tests clear them all, then set what they test. */
export const DEPLOY_VARS = [
  "IM_SDKAPPID",
  "IM_ADMIN",
  "IM_REGION",
  "IM_BASE_URL",
  "IM_RATE_LIMIT",
  "LOOKBACK_HOURS",
  "SETTLE_HOURS",
  "IM_DOWNLOAD_HOSTS",
  "COS_URL_HOSTS",
  "ALERT_EMAIL",
  "RAW_COLD_AFTER_DAYS",
  "NONCURRENT_VERSION_DAYS",
  "RETENTION_MODE",
  "RETENTION_DAYS",
  "RETENTION_COMPLIANCE_CONFIRM",
  "IM_MEDIA_RETENTION_DAYS",
  "IM_MEDIA_CONCURRENCY",
  "ATHENA_SCAN_LIMIT_GB",
  "ATHENA_RESULTS_DAYS",
];

/** Runs the config's run() for `stage` against fresh fakes: what it created, and its outputs as data. */
export async function deployWith(
  config: SstConfig,
  stage = "dev",
): Promise<{ r: Recorder; outputs: unknown }> {
  const { recorder, uninstall } = installSstFakes({ stage });
  try {
    const outputs = await config.run();
    return { r: recorder, outputs: resolved(outputs, recorder) };
  } finally {
    uninstall();
  }
}

/** Seconds in an SST duration ("15 minutes", "5410 seconds"). */
export const seconds = (d: unknown): number => {
  const m = /^(\d+) (second|minute|hour)s?$/.exec(String(d));
  if (!m) throw new Error(`not a duration: ${String(d)}`);
  return Number(m[1]) * { second: 1, minute: 60, hour: 3600 }[m[2] as "second" | "minute" | "hour"];
};

/** The sorted `$ref`s of a resolved `link` list. */
export const refs = (links: unknown) => (links as { $ref: string }[]).map((l) => l.$ref).sort();

/** One "action resources…" line per IAM action a recorded sst.aws.Function was granted. */
export const allowed = (r: Recorder, fn: string) =>
  (r.args("sst.aws.Function", fn).permissions as { actions: string[]; resources: string[] }[]).flatMap((p) =>
    p.actions.map((a) => `${a} ${p.resources.join(" ")}`),
  );

/** The properties each SST component exposes through links (its getSSTLink() in .sst/platform). */
const LINK_PROPERTIES: Record<string, (rec: { args: Record<string, unknown> }) => Record<string, unknown>> = {
  "sst.aws.Bucket": () => ({ name: "" }),
  "sst.aws.Queue": () => ({ url: "" }),
  "sst.aws.Function": () => ({ name: "" }), // + url only when `url` is enabled
  "sst.aws.ApiGatewayV2": () => ({ url: "" }),
  "sst.aws.SnsTopic": () => ({ arn: "" }),
  "sst.sst.Secret": () => ({ value: "" }),
  "sst.sst.Linkable": (rec) => rec.args.properties as Record<string, unknown>,
};

/** SST's pkg/types/typescript renderRootFile(): sorted keys, JSON types of the resolved link values. */
export function renderSstEnv(r: Recorder): string {
  const tsType = (v: unknown): string => {
    const value = v instanceof FakeOutput ? v.value : v;
    if (typeof value === "string") return "string";
    if (typeof value === "number") return "number";
    if (typeof value === "boolean") return "boolean";
    return "any";
  };
  const lines = [
    "/* This file is auto-generated by SST. Do not edit. */",
    "/* tslint:disable */",
    "/* eslint-disable */",
    "/* deno-fmt-ignore-file */",
    "/* biome-ignore-all lint: auto-generated */",
    "",
    'declare module "sst" {',
    "  export interface Resource {",
  ];
  const linkable = r.records.filter((rec) => rec.type in LINK_PROPERTIES);
  for (const rec of linkable.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const props: Record<string, string> = { type: `"${rec.type}"` };
    for (const [k, v] of Object.entries(LINK_PROPERTIES[rec.type]!(rec))) props[k] = tsType(v);
    lines.push(`    "${rec.name}": {`);
    for (const k of Object.keys(props).sort()) lines.push(`      "${k}": ${props[k]}`);
    lines.push("    }");
  }
  lines.push("  }", "}", "", 'import "sst"', "export {}");
  return lines.join("\n");
}
