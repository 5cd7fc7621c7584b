import { createContext } from 'preact';

/** Ends the session and shows the sign-in page (an expired token's 401 offers it). */
export const SignOutContext = createContext<(() => Promise<void>) | null>(null);
