import { useMemo, useState } from "preact/hooks";
import { type Api, createApi } from "./api.ts";
import { readConfig } from "./config.ts";
import { Ctx } from "./context.ts";
import { CoverageScreen } from "./coverage.tsx";
import { HourScreen } from "./hour.tsx";
import icon from "./icon.svg";
import { IntegrityScreen } from "./integrity.tsx";
import { MediaScreen } from "./media.tsx";
import { hrefOf, type Route, useRoute } from "./router.ts";
import { SearchScreen } from "./search.tsx";
import { forgetKey, loadKey, saveKey } from "./session.ts";
import { SignIn } from "./signin.tsx";

const NAV: { view: Route["view"]; label: string }[] = [
  { view: "coverage", label: "Coverage" },
  { view: "search", label: "Search" },
  { view: "media", label: "Banned media" },
  { view: "integrity", label: "Integrity" },
];

export function App() {
  const config = useMemo(() => readConfig(), []);
  const [key, setKey] = useState(loadKey);
  const [signedOutBecause, setSignedOutBecause] = useState<string>();
  const [waiting, setWaiting] = useState(0);
  const route = useRoute();

  const api = useMemo<Api | undefined>(
    () =>
      key === undefined
        ? undefined
        : createApi(key, {
            onUnauthorized: (message) => {
              forgetKey();
              setKey(undefined);
              setSignedOutBecause(`Signed out: the API refused the key (${message})`);
            },
            onWait: setWaiting,
          }),
    [key],
  );

  if (api === undefined) {
    return (
      <SignIn
        notice={signedOutBecause}
        onSignedIn={(k) => {
          saveKey(k);
          setSignedOutBecause(undefined);
          setKey(k);
        }}
      />
    );
  }

  const current = route.view === "hour" ? "coverage" : route.view;
  return (
    <Ctx.Provider value={{ api, config }}>
      <header class="top">
        <a class="brand" href="#/coverage">
          <img src={icon} alt="" width={22} height={22} /> imvault
        </a>
        <nav aria-label="Screens">
          {NAV.map((n) => (
            <a
              key={n.view}
              href={hrefOf({ view: n.view } as Route)}
              aria-current={n.view === current ? "page" : undefined}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="signout"
          onClick={() => {
            forgetKey();
            setKey(undefined);
            setSignedOutBecause("Signed out.");
          }}
        >
          Sign out
        </button>
      </header>
      {waiting > 0 ? (
        <p class="notice wait" role="status">
          The API asks to slow down (HTTP 429): retrying in {waiting} s…
        </p>
      ) : null}
      <main id="main">{screen(route)}</main>
    </Ctx.Provider>
  );
}

function screen(route: Route) {
  switch (route.view) {
    case "hour":
      return <HourScreen chatType={route.chatType} msgTime={route.msgTime} />;
    case "search":
      return <SearchScreen />;
    case "media":
      return <MediaScreen />;
    case "integrity":
      return <IntegrityScreen />;
    default:
      return <CoverageScreen hours={route.hours} />;
  }
}
