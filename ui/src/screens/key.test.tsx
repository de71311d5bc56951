import { cleanup, fireEvent, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import type { PinState } from "../generated/ipc";
import { sampleKey } from "../samples";
import { demo, renderStep } from "../testing";

afterEach(cleanup);

const heading = () => screen.getByRole("heading", { level: 1 }).textContent;

describe("finding the key", () => {
  it("asks for the key when none is plugged in, with a picture of it going in", () => {
    renderStep({ step: "findingKey", keys: 0, touch: false });
    expect(heading()).toBe("Insert your security key");
    const picture = document.querySelector("svg.picture")!;
    expect(picture.getAttribute("aria-hidden")).toBe("true");
    expect(picture.querySelector(".pic-sliding")).not.toBeNull();
  });

  it("asks for a touch on the wanted key when several are plugged in", () => {
    renderStep({ step: "findingKey", keys: 2, touch: true });
    expect(heading()).toBe("Several keys are plugged in");
    expect(screen.getByText("Touch the one you want to set up.")).toBeTruthy();
    expect(document.querySelectorAll(".pic-glow").length).toBe(2);
  });

  it("does not ask for the touch before the keys are ready for it", () => {
    renderStep({ step: "findingKey", keys: 3, touch: false });
    expect(heading()).toBe("Several keys are plugged in");
    expect(document.querySelectorAll(".pic-glow").length).toBe(0);
  });

  it("offers the on-screen touch in the demo once the keys wait for one", () => {
    const { backend } = renderStep({ step: "findingKey", keys: 2, touch: true }, demo);
    fireEvent.click(screen.getByRole("button", { name: "Touch the key" }));
    expect(backend.touches).toBe(1);
  });
});

describe("key found", () => {
  it("says what the key is, its PIN and its room, and carries on", () => {
    const { backend } = renderStep({ step: "keyFound", key: sampleKey });
    expect(heading()).toBe("We found your security key");
    expect(document.querySelector(".model")!.textContent).toBe("YubiKey 5 NFC");
    expect(document.querySelector(".pin-state")!.textContent).toBe("It has no PIN yet. You'll choose one next.");
    expect(document.querySelector(".slots")!.textContent).toBe("Room for 25 more passkeys.");
    fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(backend.sent).toEqual([{ intent: "useKey" }]);
  });

  it("says each PIN state in words", () => {
    const states: [PinState, RegExp][] = [
      [{ state: "notSet" }, /no PIN yet/],
      [{ state: "set", retries: 5 }, /has a PIN.*5 tries left/],
      [{ state: "changeRequired", retries: 8 }, /must be changed/],
      [{ state: "reinsertNeeded", retries: 4 }, /Unplug the key and plug it back in/],
      [{ state: "blocked" }, /blocked/],
    ];
    for (const [pin, words] of states) {
      renderStep({ step: "keyFound", key: { ...sampleKey, pin } });
      expect(document.querySelector(".pin-state")!.textContent).toMatch(words);
      cleanup();
    }
  });

  it("leaves out the room when the key does not say, and counts one in the singular", () => {
    renderStep({ step: "keyFound", key: { ...sampleKey, freePasskeySlots: null } });
    expect(document.querySelector(".slots")).toBeNull();
    cleanup();
    renderStep({ step: "keyFound", key: { ...sampleKey, freePasskeySlots: 1 } });
    expect(document.querySelector(".slots")!.textContent).toBe("Room for 1 more passkey.");
  });
});
