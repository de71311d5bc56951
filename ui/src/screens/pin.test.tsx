import { act, cleanup, fireEvent, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import type { PinProblem, Step } from "../generated/ipc";
import { REPEAT_GAP_MS } from "../components/problem";
import { sampleKey, sampleRules } from "../samples";
import { everythingOnScreen, fakeBackend, liveRegion, renderStep } from "../testing";

afterEach(cleanup);

const PIN = "205813";
const heading = () => screen.getByRole("heading", { level: 1 }).textContent;
const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const type = (label: string, value: string) => fireEvent.input(field(label), { target: { value } });
const ticks = () =>
  [...document.querySelectorAll(".checklist li")].map((li) => [li.textContent!.replace(/: (done|not yet)$/, ""), li.classList.contains("met")]);

/** The problem's text, and which fields are marked invalid and described by it. */
function problemTies() {
  const invalid = [...document.querySelectorAll("input[aria-invalid=true]")].map((input) => input.id);
  const problems = [...document.querySelectorAll(".problem")].filter((p) => p.textContent);
  expect(problems).toHaveLength(1);
  const problem = problems[0]!;
  expect(problem.getAttribute("aria-live")).toBe("assertive");
  for (const id of invalid) expect(document.getElementById(id)!.getAttribute("aria-describedby")).toContain(problem.id);
  return { text: problem.textContent, shownUnder: problem.id.replace(/-problem$/, ""), invalid };
}

describe("choosing a PIN", () => {
  const step: Step = { step: "choosePin", key: sampleKey, rules: sampleRules, problem: null };

  it("has two password fields for a new password, and ticks the rules off while typing", () => {
    renderStep(step);
    expect(heading()).toBe("Choose a PIN for your key");
    for (const label of ["New PIN", "Type it again"]) {
      expect(field(label).type).toBe("password");
      expect(field(label).autocomplete).toBe("new-password");
    }
    expect(ticks()).toEqual([
      ["At least 6 characters", false],
      ["Not an obvious one, like 123456 or 000000", false],
      ["Both entries match", false],
    ]);

    type("New PIN", "123456");
    expect(ticks().map(([, met]) => met)).toEqual([true, false, false]);
    type("New PIN", PIN);
    expect(ticks().map(([, met]) => met)).toEqual([true, true, false]);
    type("Type it again", PIN);
    expect(ticks().map(([, met]) => met)).toEqual([true, true, true]);
    type("New PIN", "2058");
    expect(ticks().map(([, met]) => met)).toEqual([false, true, false]);
  });

  it("leaves the obvious-PIN rule out when the organisation allows them", () => {
    renderStep({ ...step, rules: { ...sampleRules, minLength: 4, refuseObvious: false } });
    expect(ticks().map(([text]) => text)).toEqual(["At least 4 characters", "Both entries match"]);
  });

  it("shows and hides the PINs", () => {
    renderStep(step);
    fireEvent.click(screen.getByLabelText("Show PIN"));
    expect(field("New PIN").type).toBe("text");
    expect(field("Type it again").type).toBe("text");
    fireEvent.click(screen.getByLabelText("Show PIN"));
    expect(field("New PIN").type).toBe("password");
  });

  it("sends both entries on Enter, then keeps the PIN nowhere", () => {
    const { backend } = renderStep(step);
    type("New PIN", PIN);
    type("Type it again", PIN);
    fireEvent.submit(field("Type it again").form!);

    expect(backend.sent).toEqual([{ intent: "choosePin", pin: PIN, again: PIN }]);
    expect(field("New PIN").value).toBe("");
    expect(field("Type it again").value).toBe("");
    expect(everythingOnScreen()).not.toContain(PIN);
    expect(ticks().every(([, met]) => !met)).toBe(true);
  });

  it("ties a problem to its field, and a mismatch to both", () => {
    renderStep({ ...step, problem: { kind: "tooObvious" } });
    expect(problemTies()).toEqual({
      text: "That PIN is too easy to guess. Avoid repeats like 000000 and runs like 123456.",
      shownUnder: "new-pin",
      invalid: ["new-pin"],
    });
    expect(document.activeElement).toBe(field("New PIN"));
    cleanup();

    renderStep({ ...step, problem: { kind: "mismatch" } });
    expect(problemTies()).toEqual({
      text: "The two PINs are not the same. Type the same PIN in both boxes.",
      shownUnder: "new-pin-again",
      invalid: ["new-pin", "new-pin-again"],
    });
  });

  it("reads out the same problem again when the Rust side answers with it again", async () => {
    const mismatch: Step = { ...step, problem: { kind: "mismatch" } };
    const backend = fakeBackend(() => ({ ...mismatch }));
    renderStep(mismatch, undefined, backend);
    const problem = document.getElementById("new-pin-again-problem")!;
    fireEvent.submit(field("New PIN").form!);
    expect(problem.textContent).toBe("");
    await waitFor(() => expect(problem.textContent).toContain("not the same"), { timeout: REPEAT_GAP_MS * 10 });
    expect(liveRegion().textContent).toBe("The PIN was not set. Choose a PIN again.");
  });
});

describe("typing the key's PIN", () => {
  const step: Step = { step: "enterPin", key: { ...sampleKey, pin: { state: "set", retries: 8 } }, problem: null };

  it("asks for the PIN with the tries left, sends it and forgets it", () => {
    const { backend } = renderStep(step);
    expect(heading()).toBe("Type your key's PIN");
    expect(screen.getByText("8 tries left before the key locks.")).toBeTruthy();
    expect(document.querySelector(".notice.warning")).toBeNull();
    expect(field("PIN").type).toBe("password");

    fireEvent.input(field("PIN"), { target: { value: PIN } });
    fireEvent.submit(field("PIN").form!);
    expect(backend.sent).toEqual([{ intent: "enterPin", pin: PIN }]);
    expect(field("PIN").value).toBe("");
    expect(everythingOnScreen()).not.toContain(PIN);
  });

  it("warns clearly when 3 or fewer tries are left", () => {
    renderStep({ ...step, key: { ...sampleKey, pin: { state: "set", retries: 3 } } });
    const warning = document.querySelector(".notice.warning")!;
    expect(warning.textContent).toBe("Careful: only 3 tries left. After that the key locks and must be wiped.");
    expect(field("PIN").getAttribute("aria-describedby")).toContain(warning.id);
  });

  it("says a wrong PIN and how many tries are left, tied to the field", () => {
    renderStep({ ...step, problem: { kind: "wrong", retriesLeft: 2 } });
    expect(problemTies()).toEqual({
      text: "That PIN isn't right. 2 tries left before the key locks.",
      shownUnder: "pin",
      invalid: ["pin"],
    });
    expect(document.activeElement).toBe(field("PIN"));
    expect(liveRegion().textContent).toBe("Type your key's PIN again.");
  });

  it("says the tries left once after a wrong PIN, not in the hint as well", () => {
    renderStep({ ...step, problem: { kind: "wrong", retriesLeft: 7 } });
    expect(problemTies().text).toBe("That PIN isn't right. 7 tries left before the key locks.");
    expect(everythingOnScreen().match(/7 tries left/g)).toHaveLength(1);
    expect(document.getElementById("pin-hint")).toBeNull();
  });

  it("says the last try in the singular", () => {
    renderStep({ ...step, problem: { kind: "wrong", retriesLeft: 1 } });
    expect(problemTies().text).toBe("That PIN isn't right. 1 try left before the key locks.");
  });
});

describe("changing the PIN", () => {
  const step: Step = {
    step: "changePin",
    key: { ...sampleKey, pin: { state: "changeRequired", retries: 8 } },
    rules: sampleRules,
    problem: null,
  };

  it("sends the current PIN and the new one twice, then keeps none", () => {
    const { backend } = renderStep(step);
    expect(heading()).toBe("Choose a new PIN for your key");
    type("PIN it has now", "1357");
    type("New PIN", PIN);
    type("Type the new PIN again", PIN);
    expect(ticks()).toEqual([
      ["At least 6 characters", true],
      ["Not an obvious one, like 123456 or 000000", true],
      ["Not the PIN you have now", true],
      ["Both entries match", true],
    ]);
    fireEvent.submit(field("New PIN").form!);

    expect(backend.sent).toEqual([{ intent: "changePin", current: "1357", new: PIN, again: PIN }]);
    for (const label of ["PIN it has now", "New PIN", "Type the new PIN again"]) expect(field(label).value).toBe("");
    expect(everythingOnScreen()).not.toContain(PIN);
    expect(everythingOnScreen()).not.toContain("1357");
  });

  it("ties each problem to the PIN it is about", async () => {
    const cases: [PinProblem, string, string[]][] = [
      [{ kind: "wrong", retriesLeft: 7 }, "current-pin", ["current-pin"]],
      [{ kind: "tooObvious" }, "new-pin", ["new-pin"]],
      [{ kind: "sameAsCurrent" }, "new-pin", ["current-pin", "new-pin"]],
      [{ kind: "mismatch" }, "new-pin-again", ["new-pin", "new-pin-again"]],
    ];
    for (const [problem, shownUnder, invalid] of cases) {
      renderStep({ ...step, problem });
      expect(problemTies()).toMatchObject({ shownUnder, invalid });
      cleanup();
    }
  });

  it("puts an empty current PIN's problem under that field", async () => {
    const backend = fakeBackend(() => ({ ...step, problem: { kind: "empty" } }));
    renderStep(step, undefined, backend);
    type("New PIN", PIN);
    type("Type the new PIN again", PIN);
    await act(() => void fireEvent.submit(field("New PIN").form!));
    await waitFor(() => expect(problemTies()).toEqual({ text: "Type the PIN your key has now.", shownUnder: "current-pin", invalid: ["current-pin"] }));
  });
});
