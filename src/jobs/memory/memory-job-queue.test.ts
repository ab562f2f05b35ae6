import { describeJobQueueConformance } from '../job-queue.conformance.ts'
import { openMemoryJobQueue } from './memory-job-queue.ts'

describeJobQueueConformance({
  name: 'memory',
  create: async () => openMemoryJobQueue(),
  cleanup: (q) => q.close(0),
  capabilities: {
    skip: [
      {
        reason: 'in-process queue: jobs and schedules live in one process memory, so no second instance can share them',
        tests: [
          'shared storage › a job enqueued by one instance runs on the worker of another',
          'shared storage › a job returned at close is run by the next instance, with its attempt unspent',
          'shared storage › two instances scheduling the same key make one schedule',
        ],
      },
    ],
  },
})
