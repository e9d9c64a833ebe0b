//! A channel's overwrite semantics over the timeline: a `PUT` body (seed 003) replaces the
//! member list, and an add-members body (seed 004) updates a member whose address the channel
//! has and adds the others. Events are applied to the channel as earlier events left it.

use super::{lower_channel, VpcChannel, VpcMember};
use crate::model;
use crate::scenario::keys::canonical;
use crate::scenario::valid::MemberChange;
use std::collections::{BTreeMap, BTreeSet};

/// What one body changed, members named by key (a channel member's key is its address).
#[derive(Debug, Default)]
pub struct ChannelDiff {
    pub removed: Vec<String>,
    pub changed: Vec<(String, MemberChange)>,
    pub added: Vec<model::Member>,
}

/// The channel as the timeline's events have left it so far. `set_weight` and `remove_member`
/// events find their member through an index and removals are applied when the next body
/// needs the list, so a timeline of such events costs O(events × log members), not
/// O(events × members).
#[derive(Debug, Clone)]
pub struct ChannelState {
    channel: VpcChannel,
    /// Canonical address → position of its first definition in the member list.
    at: BTreeMap<String, usize>,
    /// Addresses removed since the list was last compacted.
    removed: BTreeSet<String>,
}

impl ChannelState {
    /// The channel as the events so far left it (members removed since the last body may
    /// still be listed).
    pub fn channel(&self) -> &VpcChannel {
        &self.channel
    }

    pub fn new(channel: &VpcChannel) -> ChannelState {
        let mut state = ChannelState {
            channel: channel.clone(),
            at: BTreeMap::new(),
            removed: BTreeSet::new(),
        };
        state.reindex();
        state
    }

    fn reindex(&mut self) {
        self.at.clear();
        for (i, m) in self.channel.members.iter().flatten().enumerate() {
            if let Some(addr) = m.address() {
                self.at.entry(canonical(addr).into_owned()).or_insert(i);
            }
        }
    }

    /// Applies the pending removals to the member list.
    fn compact(&mut self) {
        if self.removed.is_empty() {
            return;
        }
        let removed = std::mem::take(&mut self.removed);
        if let Some(list) = self.channel.members.as_mut() {
            list.retain(|m| {
                !m.address()
                    .is_some_and(|a| removed.contains(canonical(a).as_ref()))
            });
        }
        self.reindex();
    }

    /// Seed 003: the body's member list replaces the channel's; a body without `members` keeps
    /// them (validation warns: the seed disagrees with itself there); the channel keeps its kind. Members are matched by
    /// address (as the API compares them: `keys::canonical`).
    pub fn update(&mut self, mut update: VpcChannel, zones: &[String]) -> ChannelDiff {
        self.compact();
        if update.members.is_none() {
            update.members.clone_from(&self.channel.members);
        }
        // seed 003: "When you modify a load balance channel, the channel type will remain
        // unchanged" (validation warns when the body asks otherwise)
        update.channel_type = self.channel.channel_type;
        update
            .vpc_channel_type
            .clone_from(&self.channel.vpc_channel_type);
        update
            .microservice_info
            .clone_from(&self.channel.microservice_info);
        let old = lower_channel(&self.channel, zones).members;
        let new = lower_channel(&update, zones).members;
        let by_address = |members: &[model::Member]| -> BTreeMap<String, usize> {
            let named = members.iter().enumerate();
            named
                .map(|(i, m)| (canonical(&m.address).into_owned(), i))
                .collect()
        };
        let (old_at, new_at) = (by_address(&old), by_address(&new));
        let mut diff = ChannelDiff::default();
        for m in &old {
            if !new_at.contains_key(canonical(&m.address).as_ref()) {
                diff.removed.push(m.key.clone());
            }
        }
        for n in new {
            match old_at.get(canonical(&n.address).as_ref()).map(|&i| &old[i]) {
                Some(m) => {
                    let mut change = |c| diff.changed.push((m.key.clone(), c));
                    if m.weight != n.weight {
                        change(MemberChange::Weight(n.weight));
                    }
                    if m.enabled != n.enabled {
                        change(MemberChange::Enabled(n.enabled));
                    }
                    if m.tier != n.tier {
                        change(MemberChange::Tier(n.tier));
                    }
                }
                None => diff.added.push(n),
            }
        }
        self.channel = update;
        self.reindex();
        diff
    }

    /// Seed 004: a member whose address the channel has is updated, the others are added; of
    /// several definitions of one address in the body, the first is used.
    pub fn add_members(&mut self, added: Vec<VpcMember>, zones: &[String]) -> ChannelDiff {
        self.compact();
        let mut update = self.channel.clone();
        let list = update.members.get_or_insert_with(Vec::new);
        let mut at: BTreeMap<String, usize> = BTreeMap::new();
        for (i, m) in list.iter().enumerate() {
            if let Some(addr) = m.address() {
                at.entry(canonical(addr).into_owned()).or_insert(i);
            }
        }
        let mut defined = std::collections::BTreeSet::new();
        for m in added {
            let key = m.address().map(|a| canonical(a).into_owned());
            if let Some(k) = &key {
                if !defined.insert(k.clone()) {
                    continue;
                }
            }
            match key.as_ref().and_then(|k| at.get(k)) {
                Some(&i) => list[i] = m,
                None => {
                    if let Some(k) = key {
                        at.insert(k, list.len());
                    }
                    list.push(m);
                }
            }
        }
        self.update(update, zones)
    }

    /// A `set_weight` event: later bodies are compared with the weight it set.
    pub fn set_weight(&mut self, key: &str, weight: i64) {
        if let Some(m) = self.member(key) {
            m.weight = Some(weight);
        }
    }

    /// A `remove_member` event: the member (every definition of its address) leaves the list
    /// later bodies are compared with.
    pub fn remove(&mut self, key: &str) {
        let key = canonical(key).into_owned();
        if self.at.remove(&key).is_some() {
            self.removed.insert(key);
        }
    }

    /// The channel member a key names: the first definition of that address (seed 004).
    fn member(&mut self, key: &str) -> Option<&mut VpcMember> {
        let i = *self.at.get(canonical(key).as_ref())?;
        self.channel.members.as_mut()?.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(hosts: &[(&str, i64)]) -> VpcChannel {
        let members = hosts
            .iter()
            .map(|&(h, w)| {
                serde_json::from_value(serde_json::json!({"host": h, "weight": w}))
                    .expect("a member")
            })
            .collect();
        VpcChannel {
            members: Some(members),
            ..serde_json::from_value(serde_json::json!({})).expect("a channel")
        }
    }

    /// Removals wait in the index until a body needs the list; the result is the same as
    /// removing at once: every definition of the address goes, a removed member takes no
    /// weight, and a body listing it again adds it back.
    #[test]
    fn removals_and_weights_apply_through_the_index() {
        let zones = ["az1".to_string()];
        let mut s = ChannelState::new(&channel(&[
            ("10.0.0.1", 1),
            ("10.0.0.2", 1),
            ("10.0.0.1", 5),
        ]));
        s.set_weight("10.0.0.1", 7);
        s.remove("10.0.0.1");
        s.set_weight("10.0.0.1", 9);
        s.set_weight("10.0.0.2", 3);
        let diff = s.update(channel(&[("10.0.0.1", 1), ("10.0.0.2", 3)]), &zones);
        assert!(diff.removed.is_empty(), "{diff:?}");
        assert!(
            diff.changed.is_empty(),
            "the weight set before matches: {diff:?}"
        );
        let added: Vec<&str> = diff.added.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(added, ["10.0.0.1"]);
    }
}
