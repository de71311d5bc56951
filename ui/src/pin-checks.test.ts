import { describe, expect, it } from "vitest";
import { checkPins } from "./pin-checks";

// The same cases as crates/flow/src/pin_policy.rs, so the ticks agree with the Rust answer.
describe("the ticks for a new PIN", () => {
  const rules = { minLength: 6, maxLength: 63, refuseObvious: true };
  const check = (pin: string, again = pin, current?: string) => checkPins(rules, pin, again, current);

  it("tick everything for a good PIN typed twice", () => {
    expect(check("205813")).toEqual({ longEnough: true, notObvious: true, bothMatch: true, differs: false });
    expect(check("205813", "205813", "1357").differs).toBe(true);
  });

  it("count characters, not bytes, for the minimum, and bytes for the maximum", () => {
    expect(check("2058").longEnough).toBe(false);
    expect(check("ééé1é2").longEnough).toBe(true);
    expect(check("7".repeat(63)).longEnough).toBe(true);
    expect(check("7".repeat(64)).longEnough).toBe(false);
    expect(check("é".repeat(32)).longEnough).toBe(false);
  });

  it("find repeats and runs obvious", () => {
    for (const pin of ["111111", "123456", "987654", "abcdef", "FEDCBA", "éééééé"]) expect(check(pin).notObvious).toBe(false);
    for (const pin of ["205813", "123457", "12345!", "aBcDeF"]) expect(check(pin).notObvious).toBe(true);
  });

  it("allow obvious PINs when the policy does", () => {
    expect(checkPins({ ...rules, refuseObvious: false }, "123456", "123456").notObvious).toBe(true);
  });

  it("match only when both are typed and equal", () => {
    expect(check("", "").bothMatch).toBe(false);
    expect(check("205813", "205814").bothMatch).toBe(false);
  });
});
