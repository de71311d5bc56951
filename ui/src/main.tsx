import { render } from "preact";
import { App } from "./app";
import * as backend from "./ipc";
import "./styles.css";

const [info, initial] = await Promise.all([backend.appInfo(), backend.currentStep()]);
render(<App info={info} initial={initial} backend={backend} />, document.getElementById("app")!);
