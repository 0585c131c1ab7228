//! The jobs and their archives, kept in slots: each job sits in a slot with its archive beside
//! it, and two small maps find a slot by job id and by archive id.
//!
//! Why not one map per kind keyed by the id, as before: the ids are random, so a map of whole
//! jobs (about 160 bytes a bucket) spreads 10 000 jobs over a few MiB, and every export at the
//! cap touched cold buckets in it (the evicted job, the new job) and in the archive map (the
//! evicted archive, the new one); the profile showed those cache misses as the registry's largest
//! cost. Here the maps hold 20-byte entries (a few hundred KiB at the default cap), and a freed
//! slot is the next one filled: the job evicted at the cap leaves its slot warm for the job that
//! replaces it, and since jobs end in the order they were created the evictions walk the slots in
//! order.
//!
//! The slots come in chunks of [`CHUNK`]: the table grows a chunk at a time, so it never copies
//! every job to a larger vector under the registry's lock (at 100 000 jobs that was a 12 MiB copy)
//! and never holds more than one chunk of empty room.

use std::collections::HashMap;

use super::asset::TypedAsset;
use super::job::{ArchiveId, Job, JobId};
use super::snapshot::Archive;
use crate::ids::Hex32;

/// A map keyed by ids this emulator draws (job and archive ids): foldhash, seeded per process.
/// The keys are random (ChaCha12) unless a seeded run or a state file chose them; a state file is
/// written by the stub's owner, and without the per-process seed nobody can aim collisions at
/// the map, so the DoS-resistant SipHash is not needed here.
pub(super) type IdMap<V> = HashMap<Hex32, V, foldhash::fast::RandomState>;

/// Slots a chunk.
const CHUNK: usize = 1024;

/// An export's assets waiting for their download, beside its job (whose `archive` is its id).
#[derive(Debug, Clone)]
struct Held {
    assets: Box<[TypedAsset]>,
    bytes: u64,
}

impl Held {
    /// As a snapshot (and the ledger) spell it: with its job's id.
    fn into_archive(self, job: JobId) -> Archive {
        Archive {
            job,
            assets: self.assets,
            bytes: self.bytes,
        }
    }
}

#[derive(Debug)]
struct Entry {
    job: Job,
    archive: Option<Held>,
}

/// Jobs by kind and public status, `[kind.index()][status.index()]`: kept as jobs come, change
/// and go, so reading them costs the same at 10 jobs and at 100 000 (a metrics scrape).
pub type StatusCounts = [[usize; 4]; 3];

fn key(job: &Job) -> (usize, usize) {
    (job.kind.index(), job.public_status().index())
}

/// A job being changed: its count moves to its new status when the change ends (on drop), so no
/// change can leave the counts behind.
pub(super) struct JobMut<'a> {
    job: &'a mut Job,
    counts: &'a mut StatusCounts,
    was: (usize, usize),
}

impl std::ops::Deref for JobMut<'_> {
    type Target = Job;

    fn deref(&self) -> &Job {
        self.job
    }
}

impl std::ops::DerefMut for JobMut<'_> {
    fn deref_mut(&mut self) -> &mut Job {
        self.job
    }
}

impl Drop for JobMut<'_> {
    fn drop(&mut self) {
        let now = key(self.job);
        if now != self.was {
            self.counts[self.was.0][self.was.1] -= 1;
            self.counts[now.0][now.1] += 1;
        }
    }
}

/// Jobs by id, and the archives they hold by archive id.
#[derive(Debug, Default)]
pub(super) struct JobTable {
    /// Job id → its slot.
    jobs: IdMap<u32>,
    /// Archive id → the slot of its job.
    archives: IdMap<u32>,
    /// The slots, [`CHUNK`] a chunk (each allocated whole when the table grows into it).
    chunks: Vec<Vec<Option<Entry>>>,
    /// Empty slots, the most recently emptied last (it is the next one filled).
    free: Vec<u32>,
    /// The jobs by kind and status.
    counts: StatusCounts,
}

impl JobTable {
    /// How many jobs it holds.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// How many archives it holds.
    pub fn archive_count(&self) -> usize {
        self.archives.len()
    }

    /// The jobs by kind and status.
    pub fn counts(&self) -> StatusCounts {
        self.counts
    }

    fn slot(&self, slot: u32) -> Option<&Option<Entry>> {
        let slot = slot as usize;
        self.chunks.get(slot / CHUNK)?.get(slot % CHUNK)
    }

    fn slot_mut(&mut self, slot: u32) -> Option<&mut Option<Entry>> {
        let slot = slot as usize;
        self.chunks.get_mut(slot / CHUNK)?.get_mut(slot % CHUNK)
    }

    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.slot(slot)?.as_ref()
    }

    fn entry_mut(&mut self, slot: u32) -> Option<&mut Entry> {
        self.slot_mut(slot)?.as_mut()
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten().flatten()
    }

    /// The job `id`.
    pub fn get(&self, id: &JobId) -> Option<&Job> {
        self.entry(*self.jobs.get(id)?).map(|e| &e.job)
    }

    /// The job `id`, to change (its count follows when the change ends).
    pub fn get_mut(&mut self, id: &JobId) -> Option<JobMut<'_>> {
        let slot = *self.jobs.get(id)? as usize;
        let entry = self
            .chunks
            .get_mut(slot / CHUNK)?
            .get_mut(slot % CHUNK)?
            .as_mut()?;
        let was = key(&entry.job);
        Some(JobMut {
            job: &mut entry.job,
            counts: &mut self.counts,
            was,
        })
    }

    /// Whether it holds job `id`.
    pub fn contains_key(&self, id: &JobId) -> bool {
        self.jobs.contains_key(id)
    }

    /// Every job, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Job> {
        self.entries().map(|e| &e.job)
    }

    /// Adds `job` (a job of the same id goes, with its archive).
    pub fn insert(&mut self, job: Job) {
        let id = job.id;
        let (kind, status) = key(&job);
        self.counts[kind][status] += 1;
        let entry = Some(Entry { job, archive: None });
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(place) = self.slot_mut(slot) {
                    *place = entry;
                }
                slot
            }
            None => {
                if self.chunks.last().is_none_or(|chunk| chunk.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let at = self.chunks.len() - 1;
                self.chunks[at].push(entry);
                // More than u32::MAX jobs would not fit in memory long before.
                u32::try_from(at * CHUNK + self.chunks[at].len() - 1).expect("fewer than 2^32 jobs")
            }
        };
        if let Some(replaced) = self.jobs.insert(id, slot) {
            self.vacate(replaced);
        }
    }

    /// Takes job `id` out, with the archive it still held.
    pub fn remove(&mut self, id: &JobId) -> Option<(Job, Option<Archive>)> {
        let slot = self.jobs.remove(id)?;
        let entry = self.vacate(slot)?;
        Some((entry.job, entry.archive.map(|held| held.into_archive(*id))))
    }

    /// Empties `slot` (no longer in the job map) for the next job, and forgets its archive's id.
    fn vacate(&mut self, slot: u32) -> Option<Entry> {
        let entry = self.slot_mut(slot)?.take()?;
        self.free.push(slot);
        let (kind, status) = key(&entry.job);
        self.counts[kind][status] -= 1;
        if entry.archive.is_some()
            && let Some(archive) = &entry.job.archive
        {
            self.archives.remove(archive);
        }
        Some(entry)
    }

    /// Gives archive `id` to its job `archive.job`, which names it as its archive; false (and
    /// nothing kept) if there is no such job, it names another archive or holds one already, or
    /// the id is taken.
    pub fn add_archive(&mut self, id: ArchiveId, archive: Archive) -> bool {
        let Some(&slot) = self.jobs.get(&archive.job) else {
            return false;
        };
        if self.archives.contains_key(&id) {
            return false;
        }
        let Some(entry) = self.entry_mut(slot) else {
            return false;
        };
        if entry.archive.is_some() || entry.job.archive != Some(id) {
            return false;
        }
        entry.archive = Some(Held {
            assets: archive.assets,
            bytes: archive.bytes,
        });
        self.archives.insert(id, slot);
        true
    }

    /// The bytes of every archive held, counted again.
    pub fn archive_bytes(&self) -> u64 {
        self.entries()
            .filter_map(|e| e.archive.as_ref())
            .map(|a| a.bytes)
            .sum()
    }

    /// The job that holds archive `id`.
    pub fn archive_job(&self, id: &ArchiveId) -> Option<&Job> {
        self.entry(*self.archives.get(id)?).map(|e| &e.job)
    }

    /// Whether archive `id` is held.
    pub fn contains_archive(&self, id: &ArchiveId) -> bool {
        self.archives.contains_key(id)
    }

    /// Archive `id` (a copy, for a snapshot).
    pub fn archive(&self, id: &ArchiveId) -> Option<Archive> {
        let entry = self.entry(*self.archives.get(id)?)?;
        Some(entry.archive.clone()?.into_archive(entry.job.id))
    }

    /// Takes archive `id` away from its job.
    pub fn take_archive(&mut self, id: &ArchiveId) -> Option<Archive> {
        let slot = self.archives.remove(id)?;
        let entry = self.entry_mut(slot)?;
        Some(entry.archive.take()?.into_archive(entry.job.id))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::Timestamp;

    impl JobTable {
        fn slot_count(&self) -> usize {
            self.chunks.iter().map(Vec::len).sum()
        }
    }
    use crate::jobs::job::{JobKind, JobState, PublicStatus, Tenant};
    use crate::scope::{Scope, UserId};

    /// Job `n`, whose archive (if it gets one) is `archive_id(n)`.
    fn job(n: u8) -> Job {
        Job {
            id: format!("{n:032x}").parse().expect("an id"),
            seq: u64::from(n),
            kind: JobKind::Export,
            tenant: Arc::new(Tenant {
                owner: UserId::from("alice"),
                scope: Scope::new("p", "i").expect("a scope"),
            }),
            begin: Timestamp(0),
            duration: None,
            end: None,
            state: JobState::Running,
            reasons: Vec::new(),
            archive: Some(archive_id(n)),
            downloaded: false,
            fail_at: None,
            end_progress: None,
        }
    }

    fn archive_id(n: u8) -> ArchiveId {
        format!("{:032x}", 0x100 + u32::from(n)).parse().expect("an id")
    }

    /// An archive of job `n`, `n` bytes big.
    fn archive_of(n: u8) -> Archive {
        Archive {
            job: job(n).id,
            assets: Box::new([]),
            bytes: u64::from(n),
        }
    }

    /// The counts, read the slow way.
    fn recount(table: &JobTable) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for job in table.values() {
            let (kind, status) = key(job);
            counts[kind][status] += 1;
        }
        counts
    }

    #[test]
    fn the_status_counts_follow_every_insert_change_replacement_and_removal() {
        let mut table = JobTable::default();
        for n in 1..=6 {
            table.insert(job(n));
        }
        if let Some(mut j) = table.get_mut(&job(1).id) {
            j.state = JobState::Succeeded;
        }
        if let Some(mut j) = table.get_mut(&job(2).id) {
            j.state = JobState::Succeeded;
            j.downloaded = true;
        }
        if let Some(mut j) = table.get_mut(&job(3).id) {
            j.state = JobState::Failed;
        }
        table.remove(&job(4).id);
        table.insert(job(5)); // replaces job 5
        let running = PublicStatus::Running.index();
        let export = JobKind::Export.index();
        assert_eq!(table.counts(), recount(&table));
        assert_eq!(table.counts()[export][running], 2);
        assert_eq!(table.counts()[export][PublicStatus::Finished.index()], 1);
    }

    #[test]
    fn a_freed_slot_is_the_next_one_filled() {
        let mut table = JobTable::default();
        for n in 1..=3 {
            table.insert(job(n));
        }
        assert_eq!(table.slot_count(), 3);
        assert!(table.remove(&job(1).id).is_some());
        table.insert(job(4));
        assert_eq!(table.slot_count(), 3, "slot 0 was reused");
        assert_eq!(table.jobs[&job(4).id], 0);
        let mut seqs: Vec<u64> = table.values().map(|j| j.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, [2, 3, 4]);
    }

    #[test]
    fn an_archive_is_found_by_its_id_and_goes_with_its_job() {
        let mut table = JobTable::default();
        table.insert(job(1));
        table.insert(job(2));
        assert!(!table.add_archive(archive_id(9), archive_of(9)), "no such job");
        assert!(table.add_archive(archive_id(1), archive_of(1)));
        assert!(
            !table.add_archive(archive_id(5), archive_of(1)),
            "job 1 names another archive (and holds one already)"
        );
        assert!(
            !table.add_archive(archive_id(1), archive_of(2)),
            "the id is taken, and job 2 names another"
        );
        assert!(table.add_archive(archive_id(2), archive_of(2)));
        assert_eq!(table.archive_bytes(), 3);
        assert_eq!(table.archive_job(&archive_id(2)).map(|j| j.seq), Some(2));
        assert_eq!(table.archive(&archive_id(1)).map(|a| a.bytes), Some(1));

        // Taken: gone from the table, the job stays.
        let taken = table.take_archive(&archive_id(1)).expect("held");
        assert_eq!((taken.job, taken.bytes), (job(1).id, 1));
        assert!(table.take_archive(&archive_id(1)).is_none());
        assert!(table.contains_key(&job(1).id));

        // Removed with its job; the slot's next job holds none.
        let (removed, archive) = table.remove(&job(2).id).expect("held");
        assert_eq!((removed.seq, archive.map(|a| a.bytes)), (2, Some(2)));
        assert!(!table.contains_archive(&archive_id(2)));
        table.insert(job(3));
        assert_eq!(table.archive_count(), 0);
        assert!(table.archive_job(&archive_id(2)).is_none());
    }

    #[test]
    fn the_table_grows_a_chunk_at_a_time_and_finds_every_job() {
        let mut table = JobTable::default();
        let id = |n: u32| -> JobId { format!("{n:032x}").parse().expect("an id") };
        let job_n = |n: u32| Job {
            id: id(n),
            seq: u64::from(n),
            archive: None,
            ..job(0)
        };
        for n in 0..2500 {
            table.insert(job_n(n));
        }
        assert_eq!(table.chunks.len(), 3);
        assert!(
            table.chunks.iter().all(|c| c.capacity() == CHUNK),
            "allocated whole"
        );
        for n in (0..2500).step_by(7) {
            assert_eq!(table.remove(&id(n)).map(|(j, _)| j.seq), Some(u64::from(n)));
        }
        for n in 2500..2800 {
            table.insert(job_n(n));
        }
        assert_eq!(table.chunks.len(), 3, "freed slots were filled first");
        for n in 0..2800 {
            let held = table.get(&id(n)).map(|j| j.seq);
            let expected = (n >= 2500 || n % 7 != 0).then_some(u64::from(n));
            assert_eq!(held, expected, "job {n}");
        }
        assert_eq!(table.values().count(), table.len());
    }

    #[test]
    fn inserting_a_job_again_replaces_it_and_its_archive() {
        let mut table = JobTable::default();
        table.insert(job(1));
        assert!(table.add_archive(archive_id(1), archive_of(1)));
        table.insert(job(1));
        assert_eq!((table.len(), table.archive_count()), (1, 0));
        assert_eq!(table.values().count(), 1);
    }
}
