import { cleanup, fireEvent, screen, within } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import type { Cleanup, Failure, Intent, Step, WayForward } from "../generated/ipc";
import { everyFailure } from "../samples";
import { liveRegion, renderStep } from "../testing";

afterEach(cleanup);

const EVERY_WAY: WayForward[] = [
  "retry",
  "reinsertKey",
  "signInAgain",
  "useAnotherKey",
  "askIt",
  "removeRegistration",
  "startOver",
];
const EVERY_CLEANUP: Cleanup[] = ["passkeyRemovedFromKey", "passkeyLeftOnKey", "registrationRemoved"];

const failed = (failure: Failure, waysForward: WayForward[] = ["startOver"], cleanup: Cleanup[] = []): Step => ({
  step: "failed",
  failure,
  cleanup,
  waysForward,
});

describe("a failure", () => {
  it.each(everyFailure.map((f) => [JSON.stringify(f), f] as const))("%s has a title, an explanation and words for every way forward", (_, failure) => {
    renderStep(failed(failure, EVERY_WAY));
    const title = screen.getByRole("heading", { level: 1 }).textContent!;
    expect(title.length).toBeGreaterThan(5);
    expect(document.querySelector(".lead")!.textContent!.length).toBeGreaterThan(10);
    expect(liveRegion().textContent).toBe(`${title}.`);

    const ways = document.querySelector(".ways")!.children;
    expect(ways).toHaveLength(EVERY_WAY.length);
    for (const way of ways) expect(way.textContent!.trim().length).toBeGreaterThan(5);
    if ("message" in failure) expect(screen.getByText(failure.message).tagName).toBe("BLOCKQUOTE");
    else expect(document.querySelector("blockquote")).toBeNull();
  });

  it("has its own title for each kind and sign-in cause", () => {
    const titles = everyFailure.map((failure) => {
      renderStep(failed(failure));
      const title = screen.getByRole("heading", { level: 1 }).textContent;
      cleanup();
      return title;
    });
    expect(new Set(titles).size).toBe(everyFailure.length);
  });

  it("says what to ask IT for, in the failure's own terms", () => {
    const asks = new Map<string, string>();
    for (const failure of everyFailure) {
      renderStep(failed(failure, ["askIt"]));
      asks.set(JSON.stringify(failure), document.querySelector(".way-askIt")!.textContent!);
      cleanup();
    }
    expect(asks.get(JSON.stringify({ kind: "signInRefused", problem: "passAlreadyUsed" }))).toBe(
      "Ask IT for a new Temporary Access Pass.",
    );
    expect(asks.get(JSON.stringify({ kind: "selfServiceNotSupported" }))).toBe(
      "Show IT this screen. IT: set up the tap2key onboarding service, see docs/entra.md, and point this app at it.",
    );
    expect(asks.get(JSON.stringify({ kind: "signInRefused", problem: "accountLocked" }))).toBe("Ask IT to unlock your account.");
  });
});

describe("ways forward", () => {
  it("are buttons that send their intent, or instructions, in the order given", () => {
    const { backend } = renderStep(failed({ kind: "keyTrouble" }, EVERY_WAY));
    const order = [...document.querySelector(".ways")!.children].map((e) => e.textContent);
    expect(order).toEqual([
      "Try again",
      "Unplug your key and plug it back in. We'll carry on by ourselves.",
      "Sign in again",
      "Unplug this key and insert another one.",
      "Ask IT for help, and tell them what this screen says.",
      "Remove this registration",
      "Start over",
    ]);
    // The first button is the one to take; the reinsert instruction has its picture.
    expect(screen.getByRole("button", { name: "Try again" }).className).toBe("primary");
    expect(document.querySelector(".way-reinsertKey svg.picture")!.getAttribute("aria-hidden")).toBe("true");

    const sent: [string, Intent][] = [
      ["Try again", { intent: "retry" }],
      ["Sign in again", { intent: "retry" }],
      ["Remove this registration", { intent: "removeRegistration" }],
      ["Start over", { intent: "startOver" }],
    ];
    for (const [label] of sent) fireEvent.click(screen.getByRole("button", { name: label }));
    expect(backend.sent).toEqual(sent.map(([, intent]) => intent));
    expect(screen.getAllByRole("button")).toHaveLength(4);
  });
});

describe("tidying up", () => {
  it("says what was tidied up", () => {
    renderStep(failed({ kind: "keyRemoved" }, ["reinsertKey"], EVERY_CLEANUP));
    const items = within(screen.getByRole("list", { name: "What we tidied up" })).getAllByRole("listitem");
    expect(items.map((li) => li.textContent)).toEqual([
      "We removed the unused passkey from your key.",
      "The unused passkey could not be removed because the key was unplugged. It is harmless, and resetting the key removes it.",
      "We took the registration back.",
    ]);
  });

  it("says nothing when there was nothing to tidy", () => {
    renderStep(failed({ kind: "noTouch" }, ["retry"]));
    expect(screen.queryByRole("list", { name: "What we tidied up" })).toBeNull();
  });
});
