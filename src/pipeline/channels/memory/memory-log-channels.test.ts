import { describeLogChannelsConformance } from '../log-channels.conformance.ts'
import { openMemoryLogChannels } from './memory-log-channels.ts'

describeLogChannelsConformance({
  name: 'memory',
  create: async ({ maxLength }) => openMemoryLogChannels({ maxLength }),
  cleanup: (c) => c.close(),
})
