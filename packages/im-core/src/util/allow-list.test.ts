import { describe, expect, it } from "vitest";
import { isUrlAllowed } from "./allow-list.ts";

const allow = ["*.tim.qq.com", "cos.example.com", "http://127.0.0.1:8080"];
const check = (u: string) => isUrlAllowed(new URL(u), allow);

describe("isUrlAllowed", () => {
  it("accepts https on a subdomain of a wildcard entry", () => {
    expect(check("https://download.tim.qq.com/a.gz")).toBe(true);
    expect(check("https://a.b.tim.qq.com/a.gz")).toBe(true);
  });
  it("refuses the bare domain of a wildcard entry and look-alike hosts", () => {
    expect(check("https://tim.qq.com/a.gz")).toBe(false);
    expect(check("https://eviltim.qq.com/a.gz")).toBe(false);
    expect(check("https://download.tim.qq.com.evil.com/a.gz")).toBe(false);
  });
  it("refuses plain http on an https-only entry", () => {
    expect(check("http://download.tim.qq.com/a.gz")).toBe(false);
  });
  it("refuses URLs carrying credentials", () => {
    expect(check("https://user:pw@download.tim.qq.com/a.gz")).toBe(false);
  });
  it("accepts an exact host entry and nothing around it", () => {
    expect(check("https://cos.example.com/x")).toBe(true);
    expect(check("https://a.cos.example.com/x")).toBe(false);
  });
  it("accepts an origin entry only for the same scheme, host and port", () => {
    expect(check("http://127.0.0.1:8080/download/x.gz")).toBe(true);
    expect(check("http://127.0.0.1:8081/download/x.gz")).toBe(false);
    expect(check("https://127.0.0.1:8080/download/x.gz")).toBe(false);
  });
});
