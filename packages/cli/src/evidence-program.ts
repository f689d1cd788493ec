import type { Command } from "commander";
import type { KeyExportOptions } from "./commands/key.ts";

/**
 * The evidence commands (docs/evidence.md): `key export` and `hold add|list|release`, registered on
 * the program by createProgram. Kept apart from program.ts so that the core commands stay readable.
 */
export interface EvidenceActions {
  keyExport(options: KeyExportOptions): Promise<number>;
}

export function addEvidenceCommands(
  program: Command,
  actions: EvidenceActions,
  setExit: (code: number) => void,
): void {
  const key = program
    .command("key")
    .description("the key that signs the digests: `imvault key export` writes its public half");
  key
    .command("export")
    .description(
      "write the public key (PEM) that checks the digests' signatures, and its fingerprint; on a bucket, the KMS key's (DIGEST_KMS_KEY_ID)",
    )
    .option("--out <file>", "write the PEM to this file instead of stdout")
    .action(async (o: { out?: string }) =>
      setExit(await actions.keyExport(o.out === undefined ? {} : { out: o.out })),
    );
}
