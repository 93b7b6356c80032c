// Every action the front-end answers, by its Query API name.

import type { Action } from '../action.ts';
import { describeAvailabilityZones, describeImages, describeInstanceTypes, describeRegions } from './catalogue.ts';
import { describeInstances, rebootInstances, startInstances, stopInstances, terminateInstances } from './instances.ts';
import { createKeyPair, deleteKeyPair, describeKeyPairs, importKeyPair } from './key-pairs.ts';
import { runInstances } from './run-instances.ts';
import { createTags, deleteTags, describeTags } from './tags.ts';

export const ACTIONS: ReadonlyMap<string, Action> = new Map([
  ['RunInstances', runInstances],
  ['DescribeInstances', describeInstances],
  ['TerminateInstances', terminateInstances],
  ['StopInstances', stopInstances],
  ['StartInstances', startInstances],
  ['RebootInstances', rebootInstances],
  ['DescribeImages', describeImages],
  ['CreateKeyPair', createKeyPair],
  ['ImportKeyPair', importKeyPair],
  ['DescribeKeyPairs', describeKeyPairs],
  ['DeleteKeyPair', deleteKeyPair],
  ['CreateTags', createTags],
  ['DeleteTags', deleteTags],
  ['DescribeTags', describeTags],
  ['DescribeAvailabilityZones', describeAvailabilityZones],
  ['DescribeRegions', describeRegions],
  ['DescribeInstanceTypes', describeInstanceTypes],
]);
