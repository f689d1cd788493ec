import { useEffect, useState } from "preact/hooks";

/** The console's screens, addressed by the URL's hash (the server serves one page, `/`). */
export type Route =
  | { view: "coverage"; hours?: number }
  | { view: "hour"; chatType: string; msgTime: string }
  | { view: "search" }
  | { view: "media" }
  | { view: "integrity" };

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter((p) => p !== "");
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case "hour":
      if (parts[1] !== undefined && /^\d{10}$/.test(parts[2] ?? "")) {
        return { view: "hour", chatType: parts[1], msgTime: parts[2]! };
      }
      break;
    case "search":
      return { view: "search" };
    case "media":
      return { view: "media" };
    case "integrity":
      return { view: "integrity" };
  }
  const hours = Number(params.get("hours"));
  return Number.isInteger(hours) && hours > 0 ? { view: "coverage", hours } : { view: "coverage" };
}

export function hrefOf(route: Route): string {
  switch (route.view) {
    case "hour":
      return `#/hour/${route.chatType}/${route.msgTime}`;
    case "coverage":
      return route.hours === undefined ? "#/coverage" : `#/coverage?hours=${route.hours}`;
    default:
      return `#/${route.view}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
