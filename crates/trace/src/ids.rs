//! A map from goroutine, P or thread ids to values, for the per-event look-ups of the
//! ordering pass and the model builder.
//!
//! Go hands these ids out as small counters, so ids below a bound find their value through
//! a direct index (4 bytes per id up to the largest seen); larger or negative ones hash.
//! Values live in one vector in order of first insertion; a removed id's place keeps a
//! default value until an id inserted later reuses it.

use rustc_hash::FxHashMap;

/// Ids below this are indexed directly.
pub const DENSE_IDS: i64 = 1 << 22;

/// Values by goroutine, P or thread id: direct index for small ids, hash for others.
#[derive(Clone)]
pub struct IdMap<T> {
    values: Vec<T>,
    /// Place in `values` + 1 per id below `DENSE_IDS`; 0 for none.
    dense: Vec<u32>,
    sparse: FxHashMap<i64, u32>,
    /// Places of removed ids, for reuse.
    free: Vec<u32>,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap {
            values: Vec::new(),
            dense: Vec::new(),
            sparse: FxHashMap::default(),
            free: Vec::new(),
        }
    }
}

impl<T> IdMap<T> {
    /// Where `id`'s value is in `values`, if it has one.
    #[inline]
    pub fn place(&self, id: i64) -> Option<usize> {
        if (0..DENSE_IDS).contains(&id) {
            match self.dense.get(id as usize) {
                Some(&s) if s != 0 => Some(s as usize - 1),
                _ => None,
            }
        } else {
            self.sparse.get(&id).map(|&s| s as usize)
        }
    }

    /// The value for `id`.
    #[inline]
    pub fn get(&self, id: &i64) -> Option<&T> {
        self.place(*id).map(|i| &self.values[i])
    }

    /// Bytes the map takes (its tables' capacity, not what the values own).
    pub fn table_bytes(&self) -> usize {
        use std::mem::size_of;
        self.values.capacity() * size_of::<T>()
            + self.dense.capacity() * size_of::<u32>()
            + self.sparse.capacity() * (size_of::<(i64, u32)>() + 1)
            + self.free.capacity() * size_of::<u32>()
    }

    /// The value for `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: &i64) -> Option<&mut T> {
        self.place(*id).map(|i| &mut self.values[i])
    }

    /// Whether `id` has a value.
    #[inline]
    pub fn contains_key(&self, id: &i64) -> bool {
        self.place(*id).is_some()
    }

    /// The value for `id`, inserting `make()` first if it has none.
    #[inline]
    pub fn get_or_insert_with(&mut self, id: i64, make: impl FnOnce() -> T) -> &mut T {
        let i = self.place_or_insert_with(id, make);
        &mut self.values[i]
    }

    /// The place of `id`'s value in `values_mut`, inserting `make()` first if it has none;
    /// for a caller that comes back to the value several times between other work.
    #[inline]
    pub fn place_or_insert_with(&mut self, id: i64, make: impl FnOnce() -> T) -> usize {
        match self.place(id) {
            Some(i) => i,
            None => self.insert_new(id, make()),
        }
    }

    /// Sets the value of `id`, returning the one it replaces.
    pub fn insert(&mut self, id: i64, value: T) -> Option<T> {
        match self.place(id) {
            Some(i) => Some(std::mem::replace(&mut self.values[i], value)),
            None => {
                self.insert_new(id, value);
                None
            }
        }
    }

    #[cold]
    fn insert_new(&mut self, id: i64, value: T) -> usize {
        let i = match self.free.pop() {
            Some(i) => {
                self.values[i as usize] = value;
                i as usize
            }
            None => {
                self.values.push(value);
                self.values.len() - 1
            }
        };
        if (0..DENSE_IDS).contains(&id) {
            let at = id as usize;
            if at >= self.dense.len() {
                self.dense.resize(at + 1, 0);
            }
            self.dense[at] = i as u32 + 1;
        } else {
            self.sparse.insert(id, i as u32);
        }
        i
    }

    /// The values in order of first insertion (with a default in each place a removal
    /// freed and no insertion reused).
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// The values in order of first insertion (see `values_mut`).
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// `values_mut`, taken out of the map.
    pub fn into_values(self) -> Vec<T> {
        self.values
    }
}

impl<T: Default> IdMap<T> {
    /// Removes `id`, returning its value; its place is reused by a later insertion.
    pub fn remove(&mut self, id: &i64) -> Option<T> {
        let i = self.place(*id)?;
        if (0..DENSE_IDS).contains(id) {
            self.dense[*id as usize] = 0;
        } else {
            self.sparse.remove(id);
        }
        self.free.push(i as u32);
        Some(std::mem::take(&mut self.values[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acts_as_a_map_for_small_and_large_ids() {
        let mut t: IdMap<u64> = IdMap::default();
        let ids = [0, 1, 7, 1 << 21, DENSE_IDS, i64::MAX, -5];
        for (n, &id) in ids.iter().enumerate() {
            assert!(t.insert(id, n as u64).is_none(), "{id}");
        }
        for (n, &id) in ids.iter().enumerate() {
            assert_eq!(t.get(&id), Some(&(n as u64)), "{id}");
        }
        assert!(!t.contains_key(&2) && !t.contains_key(&(1 << 30)));
        // Replacing returns the old value; removing frees the place for another id.
        assert_eq!(t.insert(7, 70), Some(2));
        assert_eq!(t.remove(&7), Some(70));
        assert!(t.get(&7).is_none() && t.remove(&7).is_none());
        *t.get_or_insert_with(9, || 90) += 1;
        assert_eq!(t.get(&9), Some(&91));
        assert_eq!(t.values_mut().len(), 7, "the freed place was reused");
        assert_eq!(t.remove(&i64::MAX), Some(5));
        assert!(t.get(&i64::MAX).is_none());
        *t.get_mut(&-5).unwrap() += 1;
        assert_eq!(t.into_values()[6], 7);
    }
}
