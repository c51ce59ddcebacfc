/** The OpenAPI document itself: well formed enough for Ajv to compile every response, and complete. */
import { describe, expect, it } from "@jest/globals";
import { openApiDocument } from "../../component/http/openapi.js";
import { checkResponse, compileAllResponses } from "../helpers/openapi.js";

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and every response schema compiles", () => {
    expect(openApiDocument.openapi).toBe("3.1.0");
    expect(compileAllResponses()).toBeGreaterThan(20);
  });
  it("describes every admin route", () => {
    expect(Object.keys(openApiDocument.paths).sort()).toEqual([
      "/api/agents", "/api/audit", "/api/customers/{jid}", "/api/messages", "/api/openapi.json", "/api/queues", "/api/sessions", "/api/sessions/{id}",
      "/api/sessions/{id}/end", "/api/sessions/{id}/transcript", "/api/stats/history", "/api/stats/realtime",
    ]);
  });
  it("refuses a response that is not as described", () => {
    const error = { error: { code: "not-authorized", message: "x" } };
    expect(() => checkResponse("GET", "/api/agents", 401, "application/json", error)).not.toThrow();
    expect(() => checkResponse("GET", "/api/agents", 401, "application/json", { error: { code: "x" } })).toThrow(/does not match/);
    expect(() => checkResponse("GET", "/api/agents", 418, "application/json", error)).toThrow(/does not describe/);
    expect(() => checkResponse("GET", "/api/agents", 200, "text/html", "")).toThrow(/not described/);
    expect(() => checkResponse("GET", "/api/nothing", 200, "application/json", [])).toThrow(/no path/);
    expect(() => checkResponse("GET", "/api/erasure", 200, "application/json", {})).toThrow(/no path/);
    expect(() => checkResponse("DELETE", "/api/customers/ann%40example.test", 200, "application/json", { erased: { sessions: 1, transcriptLines: 4, events: 9 } })).not.toThrow();
  });
});
