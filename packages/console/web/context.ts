import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ConsoleConfig } from "../src/site.ts";
import type { Api } from "./api.ts";

export interface ConsoleContext {
  api: Api;
  config: ConsoleConfig & { fromPage: boolean };
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const ctx = useContext(Ctx);
  if (ctx === null) throw new Error("useConsole outside the signed-in console");
  return ctx;
}
