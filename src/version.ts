/**
 * The maubot version Switchboard reports (GET /version) and checks plugins' `maubot`
 * minimum against: the maubot release whose Management API it implements.
 */
export const MAUBOT_VERSION = '0.6.0';
