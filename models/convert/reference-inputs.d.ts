/** Types of reference-inputs.js (the model-conversion check's deterministic inputs). */
export declare const SIZE: number;
export declare const RECIPES: { name: string; recipe: string; make(): Uint8Array }[];
export declare function mulberry32(seed: number): () => number;
export declare function fnv1a(bytes: Uint8Array): string;
