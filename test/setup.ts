/**
 * Runs in each test file's context before it loads (jest setupFiles). On
 * Node 20, Jest's vm context lacks Symbol.dispose/asyncDispose (Node adds them
 * to its main context only); playwright-core then fails with "Object not
 * disposable" when it clicks inside a cross-site iframe (the widget on another
 * site). Defining both the way its bundler's helper falls back makes them agree.
 */
const S = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
S.dispose ??= Symbol.for("Symbol.dispose");
S.asyncDispose ??= Symbol.for("Symbol.asyncDispose");
export {};
