// Types for what vite adds to modules (import.meta.glob, CSS imports) in the web app.
/// <reference types="vite/client" />
