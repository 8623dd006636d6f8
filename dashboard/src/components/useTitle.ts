import { useEffect } from "react";

/** Sets the browser tab's title for the current view ("acme-shop · storeplane"). */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · storeplane` : "storeplane";
  }, [title]);
}
