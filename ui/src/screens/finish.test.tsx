import { cleanup, fireEvent, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import type { Step } from "../generated/ipc";
import { kiosk, renderStep } from "../testing";

afterEach(cleanup);

const heading = () => screen.getByRole("heading", { level: 1 }).textContent;

describe("waiting screens", () => {
  it.each([
    [{ step: "checkingPin" }, "Checking your PIN…"],
    [{ step: "registering", name: "Blue key" }, "Registering “Blue key” with your organisation…"],
    [{ step: "removingRegistration" }, "Taking the registration back…"],
    [{ step: "findingKey", keys: 1, touch: false }, "Reading your security key…"],
  ] as [Step, string][])("%j", (step, title) => {
    renderStep(step);
    expect(heading()).toBe(title);
    expect(screen.queryAllByRole("button")).toHaveLength(0);
  });
});

describe("naming the key", () => {
  const step: Step = { step: "namingKey", suggested: "YubiKey 5 NFC", problem: null };
  const input = () => screen.getByLabelText("Name") as HTMLInputElement;

  it("offers the suggested name, counts characters up to 30, and sends the name", () => {
    const { backend } = renderStep(step);
    expect(heading()).toBe("Give your key a name");
    expect(input().value).toBe("YubiKey 5 NFC");
    expect(input().maxLength).toBe(30);
    expect(screen.getByText("13 of 30 characters").id).toBe("key-name-count");
    expect(input().getAttribute("aria-describedby")).toContain("key-name-count");

    fireEvent.input(input(), { target: { value: "Keyring" } });
    expect(screen.getByText("7 of 30 characters")).toBeTruthy();
    fireEvent.submit(input().form!);
    expect(backend.sent).toEqual([{ intent: "nameKey", name: "Keyring" }]);
  });

  it("ties the problem to the field", () => {
    renderStep({ ...step, problem: { kind: "empty" } });
    const problem = document.getElementById("key-name-problem")!;
    expect(problem.textContent).toBe("Give your key a name, like “Blue key” or “Keyring”.");
    expect(problem.getAttribute("aria-live")).toBe("assertive");
    expect(input().getAttribute("aria-invalid")).toBe("true");
    expect(input().getAttribute("aria-describedby")).toContain("key-name-problem");
    expect(document.activeElement).toBe(input());
  });
});

describe("done", () => {
  const step: Step = {
    step: "done",
    key: { methodId: "m-1", name: "Blue key", aaguid: null, model: "YubiKey 5 NFC", signCount: 1 },
  };

  it("says the key is ready, what was registered, and what to do next", () => {
    const { backend } = renderStep(step);
    expect(heading()).toBe("Your security key is ready");
    expect(document.querySelector(".key-name")!.textContent).toBe("Blue key");
    expect(document.querySelector(".model")!.textContent).toBe("YubiKey 5 NFC");
    expect(document.body.textContent).toContain("tested just now");
    expect(document.body.textContent).toContain("Sign in with a security key");
    expect(document.body.textContent).toContain("Keep it on your keyring.");
    fireEvent.click(screen.getByRole("button", { name: "Finish" }));
    expect(backend.sent).toEqual([{ intent: "startOver" }]);
  });

  it("hands over to the next person on a kiosk", () => {
    renderStep(step, kiosk);
    expect(screen.getByRole("button", { name: "Finish – next person" })).toBeTruthy();
  });

  it("leaves out the model when the directory does not know it", () => {
    renderStep({ step: "done", key: { ...step.key, model: null } } as Step);
    expect(document.querySelector(".model")).toBeNull();
  });
});
