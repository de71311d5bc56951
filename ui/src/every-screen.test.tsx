import { cleanup } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { demo, kiosk, liveRegion, renderStep, standard } from "./testing";
import { sampleSteps } from "./samples";

afterEach(cleanup);

describe.each([
  ["standard", standard],
  ["demo", demo],
  ["kiosk", kiosk],
] as const)("every screen (%s)", (_, info) => {
  it.each(Object.entries(sampleSteps))("%s: one heading that takes focus, an announcement, labelled controls", (_, step) => {
    renderStep(step, info);
    const headings = document.querySelectorAll("h1");
    expect(headings).toHaveLength(1);
    const focused = document.activeElement!;
    if ("problem" in step && step.problem) expect(focused.tagName).toBe("INPUT");
    else expect(focused).toBe(headings[0]);

    expect(liveRegion().textContent!.length).toBeGreaterThan(8);
    for (const button of document.querySelectorAll("button")) {
      expect(button.getAttribute("type")).toMatch(/^(button|submit)$/);
      expect(button.textContent!.trim()).not.toBe("");
    }
    for (const input of document.querySelectorAll("input")) expect(input.labels?.length).toBe(1);
    for (const svg of document.querySelectorAll("svg")) expect(svg.getAttribute("aria-hidden")).toBe("true");
  });
});
