// Types of readme-blocks.mjs for the TypeScript test that uses it.
export interface ReadmeBlock {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly mode: 'installed' | 'output' | 'skip' | undefined;
  /** The marker's text after the mode: a skip's reason. */
  readonly note: string;
  /** For an installed ts block: the exact stdout its Output block pins. */
  output?: string;
}
export function readmeBlocks(markdown: string): ReadmeBlock[];
