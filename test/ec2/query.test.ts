// The Query API's parameters: lists, filters and tag specifications numbered from 1 without
// gaps, values percent-decoded, each name once, and every parameter an action does not read
// refused as UnknownParameter.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ec2Error } from '../../src/ec2/errors.ts';
import { Params, parseQuery } from '../../src/ec2/query.ts';

const params = (text: string) => new Params(parseQuery(text));
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Ec2Error, String(e));
    return e.code;
  }
  throw new Error('not refused');
};

test('lists InstanceId.N in order, and refuse a gap or a zero', () => {
  assert.deepEqual(params('InstanceId.2=i-b&InstanceId.1=i-a&InstanceId.3=i-c').list('InstanceId'), ['i-a', 'i-b', 'i-c']);
  assert.deepEqual(params('Action=X').list('InstanceId'), []);
  assert.equal(codeOf(() => params('InstanceId.1=a&InstanceId.3=c').list('InstanceId')), 'InvalidParameterValue');
  assert.equal(codeOf(() => params('InstanceId.0=a').list('InstanceId')), 'InvalidParameterValue');
  assert.equal(codeOf(() => params('InstanceId.01=a').list('InstanceId')), 'InvalidParameterValue');
});

test('filters: Filter.N.Name with Filter.N.Value.M', () => {
  const p = params('Filter.1.Name=tag%3AName&Filter.1.Value.1=web&Filter.1.Value.2=db&Filter.2.Name=instance-state-name&Filter.2.Value.1=running');
  assert.deepEqual(p.filters(), [{ name: 'tag:Name', values: ['web', 'db'] }, { name: 'instance-state-name', values: ['running'] }]);
  p.checkAllRead();
  assert.equal(codeOf(() => params('Filter.1.Value.1=x').filters()), 'MissingParameter');
});

test('tag specifications: TagSpecification.N.Tag.M.Key and Value', () => {
  const p = params('TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a+b&TagSpecification.1.Tag.2.Key=empty');
  assert.deepEqual(p.indexes('TagSpecification'), [1]);
  assert.equal(p.optional('TagSpecification.1.ResourceType'), 'instance');
  assert.deepEqual(p.tags('TagSpecification.1.Tag'), [{ key: 'Name', value: 'a b' }, { key: 'empty', value: '' }]);
  p.checkAllRead();
});

test('strict: a name given twice, bad percent-encoding, an unread parameter, a number out of range', () => {
  assert.equal(codeOf(() => parseQuery('MaxCount=1&MaxCount=2')), 'InvalidParameterValue');
  assert.equal(codeOf(() => parseQuery('ImageId=%zz')), 'InvalidHttpRequest');
  const p = params('Action=DescribeInstances&Version=2016-11-15&Force=true');
  assert.equal(codeOf(() => p.checkAllRead()), 'UnknownParameter');
  assert.equal(codeOf(() => params('MaxCount=1.5').integer('MaxCount', 1, 100)), 'InvalidParameterValue');
  assert.equal(codeOf(() => params('MaxCount=101').integer('MaxCount', 1, 100)), 'InvalidParameterValue');
  assert.equal(codeOf(() => params('MaxCount=%201').integer('MaxCount', 1, 100)), 'InvalidParameterValue');
  assert.equal(params('MaxCount=100').integer('MaxCount', 1, 100), 100);
  assert.equal(codeOf(() => parseQuery(Array.from({ length: 1001 }, (_, i) => `a${i}=1`).join('&'))), 'InvalidParameterValue');
});
