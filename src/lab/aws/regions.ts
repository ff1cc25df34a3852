/**
 * AWS regions as an account sees them: those enabled by default in every account, and the
 * opt-in regions an account must enable first (AWS General Reference, "Enable or disable
 * AWS Regions in your account"). A call to an opt-in region the account has not enabled is
 * refused with `UnrecognizedClientException` (the credential is unknown there).
 */
export const OPT_IN_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ca-west-1',
  'eu-central-2',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
] as const;

/** `ENABLED_BY_DEFAULT`, `ENABLED` or `DISABLED`: account:ListRegions' RegionOptStatus. */
export type RegionOptStatus = 'ENABLED_BY_DEFAULT' | 'ENABLED' | 'DISABLED';

export function isOptInRegion(region: string): boolean {
  return (OPT_IN_REGIONS as readonly string[]).includes(region);
}

/**
 * The regions of an account with their status: the scenario's `regions` are the ones in use
 * (enabled), every opt-in region not among them is listed DISABLED, as ListRegions does.
 */
export function regionStatuses(enabled: readonly string[]): Array<{ region: string; status: RegionOptStatus }> {
  const listed = enabled.map((region) => ({ region, status: (isOptInRegion(region) ? 'ENABLED' : 'ENABLED_BY_DEFAULT') as RegionOptStatus }));
  const disabled = OPT_IN_REGIONS.filter((region) => !enabled.includes(region)).map((region) => ({ region, status: 'DISABLED' as RegionOptStatus }));
  return [...listed, ...disabled].sort((a, b) => a.region.localeCompare(b.region));
}

/** Whether an account can call a region: every default region, and the opt-in ones it enabled. */
export function regionUsable(enabled: readonly string[], region: string): boolean {
  return !isOptInRegion(region) || enabled.includes(region);
}
