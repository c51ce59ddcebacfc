/** The front page (component/http/home.ts): the links to the browser pages, and configured text escaped. */
import { describe, expect, it } from "@jest/globals";
import { validateConfig } from "../../component/config.js";
import { homePage } from "../../component/http/home.js";

const config = validateConfig({
  domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "s" },
  ports: { c2s: 5222, http: 5280, component: 5347, redis: 6379, web: 8080 }, admin: { token: "long-enough" },
  queues: [{ name: "billing", title: "Billing <b>&</b> \"refunds\"", skills: ["billing"] }],
  agents: [{ jid: "alice@acme.test", password: "pw", skills: ["billing"], maxChats: 1 }],
});

describe("front page", () => {
  const html = homePage(config);

  it("links the agent desk and, next to it, the supervisor console", () => {
    const links = [...html.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1], m[2]]);
    expect(links).toEqual([["/agent/", "agent desk"], ["/admin/", "supervisor console"], ["/healthz", "Health"]]);
  });

  it("escapes what comes from the configuration", () => {
    expect(html).toContain("Billing &lt;b&gt;&amp;&lt;/b&gt; &quot;refunds&quot;");
    expect(html).not.toContain("<b>&</b>");
  });
});
