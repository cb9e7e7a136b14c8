/** A problem with one variable, as a ConfigError lists it. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/**
 * Reads settings from an environment, collecting every bad value instead of
 * stopping at the first, so start-up can name them all in one ConfigError.
 * A missing or empty variable takes its fallback; a failed parse yields
 * undefined and a problem.
 */
export function envReader(env: Readonly<Record<string, string | undefined>>): {
  read<T>(variable: string, fallback: string, parse: (raw: string) => T): T;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  return {
    problems,
    read<T>(variable: string, fallback: string, parse: (raw: string) => T): T {
      const raw = env[variable];
      try {
        return parse(raw === undefined || raw === "" ? fallback : raw);
      } catch (error) {
        problems.push({ variable, message: (error as Error).message });
        return undefined as T;
      }
    },
  };
}
