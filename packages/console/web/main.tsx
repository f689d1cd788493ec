import { render } from "preact";
import { App } from "./app.tsx";
import "./styles.css";

performance.mark("imvault:start");
render(<App />, document.getElementById("app")!);
