// Times shown relative ("3m ago") with the exact time on hover (title) and in <time dateTime>.
import { useEffect, useState } from "react";
import { formatAge, formatExact, formatRelative } from "../time";

/** Re-renders its caller every `ms` so relative times keep moving between refetches. */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function RelativeTime({ iso, age = false }: { iso: string; age?: boolean }) {
  const now = useNow();
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {age ? formatAge(iso, now) : formatRelative(iso, now)}
    </time>
  );
}
