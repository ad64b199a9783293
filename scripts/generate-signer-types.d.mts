// Types of scripts/generate-signer-types.mjs, for test/signer-openapi.test.ts.
export declare const SOURCE: URL;
export declare const TARGET: URL;
export declare function generateSignerTypes(): Promise<string>;
