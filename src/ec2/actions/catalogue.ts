// What the site offers, in EC2's terms: images (DescribeImages), the one region and zone, and the
// instance types.

import type { Action } from '../action.ts';
import { Ec2Error, invalidValue } from '../errors.ts';
import { AMI_ID } from '../ids.ts';
import { usableImages } from '../images.ts';
import { type Filter, matchesAll } from '../filters.ts';

const IMAGE_FILTERS = ['image-id', 'name', 'state', 'is-public', 'owner-id'];

export const describeImages: Action = (p) => {
  const ids = p.list('ImageId');
  for (const id of ids) if (!AMI_ID.test(id)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id.slice(0, 100)}" (expecting "ami-...")`);
  const owners = p.list('Owner');
  const filters: Filter[] = p.filters();
  for (const f of filters) if (!IMAGE_FILTERS.includes(f.name)) throw invalidValue('Filter.Name', f.name, `The filter '${f.name.slice(0, 100)}' is invalid; vws supports ${IMAGE_FILTERS.join(', ')}.`);
  return async (opts, caller) => {
    const images = await usableImages(opts, caller);
    const missing = ids.find((id) => !images.some((i) => i.amiId === id));
    if (missing) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${missing}]' does not exist`);
    const chosen = images.filter(({ amiId, image }) => (ids.length === 0 || ids.includes(amiId))
      && (owners.length === 0 || owners.includes(image.owner) || (owners.includes('self') && image.owner === caller.user.id))
      && matchesAll(filters, new Map([['image-id', [amiId]], ['name', [image.name]], ['state', ['available']], ['is-public', [String(image.visibility === 'public')]], ['owner-id', [image.owner]]])));
    return {
      imagesSet: chosen.map(({ amiId, image }) => ({
        imageId: amiId,
        imageLocation: image.name,
        imageState: 'available',
        imageOwnerId: image.owner,
        creationDate: new Date(image.createdAt * 1000).toISOString(),
        isPublic: image.visibility === 'public',
        architecture: 'x86_64',
        imageType: 'machine',
        name: image.name,
        description: `vws image ${image.name} (${image.sizeMiB} MiB, sha256 ${image.sha256})`,
        rootDeviceType: 'instance-store',
        blockDeviceMapping: [],
        virtualizationType: 'hvm',
        hypervisor: 'kvm',
      })),
    };
  };
};

export const describeRegions: Action = (p) => {
  const names = p.list('RegionName');
  p.optional('AllRegions');
  return async (opts) => {
    const unknown = names.find((n) => n !== opts.region);
    if (unknown !== undefined) throw invalidValue('RegionName', unknown, `The only region is ${opts.region}.`);
    return { regionInfo: [{ regionName: opts.region, regionEndpoint: 'this endpoint', optInStatus: 'opt-in-not-required' }] };
  };
};

export const describeAvailabilityZones: Action = (p) => {
  const names = p.list('ZoneName');
  p.optional('AllAvailabilityZones');
  return async (opts) => {
    const zone = `${opts.region}a`;
    const unknown = names.find((n) => n !== zone);
    if (unknown !== undefined) throw invalidValue('ZoneName', unknown, `The only zone is ${zone}.`);
    return { availabilityZoneInfo: [{ zoneName: zone, zoneState: 'available', regionName: opts.region, zoneId: `${opts.region}-az1`, zoneType: 'availability-zone', messageSet: [] }] };
  };
};

export const describeInstanceTypes: Action = (p) => {
  const names = p.list('InstanceType');
  return async (opts) => {
    const unknown = names.find((n) => !opts.instanceTypes.has(n));
    if (unknown !== undefined) throw invalidValue('InstanceType', unknown, `vws offers ${[...opts.instanceTypes.keys()].join(', ')}.`);
    const chosen = [...opts.instanceTypes].filter(([n]) => names.length === 0 || names.includes(n));
    return {
      instanceTypeSet: chosen.map(([name, s]) => ({
        instanceType: name,
        currentGeneration: true,
        supportedUsageClasses: ['on-demand'],
        supportedRootDeviceTypes: ['instance-store'],
        hypervisor: 'kvm',
        processorInfo: { supportedArchitectures: ['x86_64'] },
        // EC2 counts whole vCPUs: a fractional share is shown as the whole CPUs it touches.
        vCpuInfo: { defaultVCpus: Math.ceil(s.cpu) },
        memoryInfo: { sizeInMiB: s.memoryMiB },
      })),
    };
  };
};
