//! A channel's overwrite semantics over the timeline: a `PUT` body (seed 003) replaces the
//! member list, and an add-members body (seed 004) updates a member whose address the channel
//! has and adds the others. Events are applied to the channel as earlier events left it.

use super::{lower_channel, VpcChannel, VpcMember};
use crate::model;
use crate::scenario::keys::canonical;
use crate::scenario::valid::MemberChange;
use std::collections::BTreeMap;

/// What one body changed, members named by key (a channel member's key is its address).
#[derive(Debug, Default)]
pub struct ChannelDiff {
    pub removed: Vec<String>,
    pub changed: Vec<(String, MemberChange)>,
    pub added: Vec<model::Member>,
}

/// The channel as the timeline's events have left it so far.
#[derive(Debug, Clone)]
pub struct ChannelState {
    channel: VpcChannel,
}

impl ChannelState {
    pub fn new(channel: &VpcChannel) -> ChannelState {
        ChannelState {
            channel: channel.clone(),
        }
    }

    /// Seed 003: the body's member list replaces the channel's. Members are matched by address
    /// (as the API compares them: `keys::canonical`).
    pub fn update(&mut self, update: VpcChannel, zones: &[String]) -> ChannelDiff {
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
        diff
    }

    /// Seed 004: a member whose address the channel has is updated, the others are added.
    pub fn add_members(&mut self, added: Vec<VpcMember>, zones: &[String]) -> ChannelDiff {
        let mut update = self.channel.clone();
        let list = update.members.get_or_insert_with(Vec::new);
        let mut at: BTreeMap<String, usize> = BTreeMap::new();
        for (i, m) in list.iter().enumerate() {
            if let Some(addr) = m.address() {
                at.entry(canonical(addr).into_owned()).or_insert(i);
            }
        }
        for m in added {
            let key = m.address().map(|a| canonical(a).into_owned());
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

    /// A `remove_member` event: the member leaves the list later bodies are compared with.
    pub fn remove(&mut self, key: &str) {
        let key = canonical(key);
        if let Some(list) = self.channel.members.as_mut() {
            list.retain(|m| m.address().map(canonical) != Some(key.clone()));
        }
    }

    /// The channel member a key names: the first definition of that address (seed 004).
    fn member(&mut self, key: &str) -> Option<&mut VpcMember> {
        let key = canonical(key);
        let list = self.channel.members.as_mut()?;
        list.iter_mut()
            .find(|m| m.address().map(canonical) == Some(key.clone()))
    }
}
