//! The timeline: each event is checked where it stands in the file (its action, its body as
//! the vendor API would check it), then all are replayed in time order, as the run will, to
//! resolve member references to indices. A reference is resolved against the members that
//! exist at the event's time, so validation and the run can never disagree about which member
//! an event names.

use super::de::{deserialize_at, Seg};
use super::diag::{Code, Findings};
use super::keys::canonical;
use super::sections::{self, Event};
use super::valid::{ChannelChange, EventAction, PoolDef, TimedAction};
use super::{apig, elb, suggest, Severity};
use crate::model::ZoneId;
use crate::model::{self, MemberIdx, Tier};
use crate::text::number;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An event's action as the file gives it, body deserialized, members still named by key.
enum Given {
    MemberDown(String),
    MemberUp(String),
    MemberSlow(String, f64),
    AzDown(ZoneId),
    AzUp(ZoneId),
    SetWeight(String, i64),
    RemoveMember(String),
    SetRate(f64),
    AddElbMembers(Vec<elb::Member>),
    AddChannelMembers(Vec<apig::VpcMember>),
    UpdatePool(Box<elb::Pool>),
    UpdateChannel(Box<apig::VpcChannel>),
}

/// Checks every event and returns the timeline in time order with member indices. `keys` are
/// the pool's own members; `pool` is `None` when the file defines no pool (or two).
pub fn validate(
    events: &[Event],
    pool: Option<&PoolDef>,
    keys: &[String],
    zones: &[String],
    duration: f64,
    f: &mut Findings,
) -> Vec<TimedAction> {
    let master_slave = matches!(pool, Some(PoolDef::Elb(p)) if p.is_master_slave());
    let given: Vec<Option<Given>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let p = format!("events[{i}]");
            check(e, &p, pool, master_slave, zones, duration, f)
        })
        .collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| at(&events[a]).total_cmp(&at(&events[b])));
    let mut timeline = Timeline::new(pool, keys, zones, f);
    let mut out = Vec::with_capacity(events.len());
    for i in order {
        if let Some(g) = &given[i] {
            let p = format!("events[{i}]");
            if let Some(action) = timeline.resolve(g, &p, f) {
                out.push(TimedAction {
                    at_s: at(&events[i]),
                    action,
                });
            }
        }
    }
    out
}

fn at(e: &Event) -> f64 {
    e.at_s.unwrap_or(0.0)
}

/// The checks one event needs on its own; its action when it has exactly one.
fn check(
    e: &Event,
    p: &str,
    pool: Option<&PoolDef>,
    master_slave: bool,
    zones: &[String],
    duration: f64,
    f: &mut Findings,
) -> Option<Given> {
    match e.at_s {
        None => f.missing(&format!("{p}.at_s"), "", Code::NONE),
        Some(t) if !(t.is_finite() && t >= 0.0) => f.error(
            &format!("{p}.at_s"),
            t,
            "must be a finite time at or after 0",
            Code::NONE,
        ),
        Some(t) if t > duration => f.warn(
            &format!("{p}.at_s"),
            t,
            format!(
                "is after the end of the run ({} s); the event never happens",
                number(duration)
            ),
        ),
        _ => {}
    }
    let actions = e.actions();
    if actions.len() != 1 {
        let rule = if actions.is_empty() {
            "has no action: add one of member_down, member_up, member_slow, az_down, az_up, set_weight, add_members, remove_member, update_pool, update_vpc_channel, set_rate".to_string()
        } else {
            format!(
                "has {} actions ({}); give exactly one per event",
                actions.len(),
                actions.join(", ")
            )
        };
        f.error(p, "", rule, Code::NONE);
    }
    let zone = |field: &str, name: &String, f: &mut Findings| {
        let id = zones.iter().position(|z| z == name).map(|i| i as ZoneId);
        if id.is_none() {
            f.error(
                &format!("{p}.{field}"),
                name,
                format!("is not an AZ of this scenario ({})", zones.join(", ")),
                Code::NONE,
            );
        }
        id
    };
    let az_down = e.az_down.as_ref().and_then(|z| zone("az_down", z, f));
    let az_up = e.az_up.as_ref().and_then(|z| zone("az_up", z, f));
    if let Some(m) = &e.member_slow {
        sections::positive(f, &format!("{p}.member_slow.factor"), Some(m.factor));
    }
    if let Some(w) = &e.set_weight {
        let max = if matches!(pool, Some(PoolDef::Apig(_))) {
            10000
        } else {
            100
        };
        f.range(
            &format!("{p}.set_weight.weight"),
            w.weight,
            0,
            max,
            "",
            Code::NONE,
        );
    }
    sections::positive(f, &format!("{p}.set_rate"), e.set_rate);
    let add_members = e
        .add_members
        .as_ref()
        .and_then(|body| add_members(pool, master_slave, body, &format!("{p}.add_members"), f));
    if e.remove_member.is_some() {
        if let Some(PoolDef::Elb(pool)) = pool {
            if pool.member_deletion_protection_enable == Some(true) {
                f.warn(
                    &format!("{p}.remove_member"),
                    "",
                    "will be refused: the pool has member_deletion_protection_enable",
                );
            }
        }
    }
    let update_pool = e
        .update_pool
        .as_ref()
        .and_then(|body| update_pool(pool, master_slave, body, &format!("{p}.update_pool"), f));
    let update_channel = e.update_vpc_channel.as_ref().and_then(|body| {
        let at = format!("{p}.update_vpc_channel");
        if !matches!(pool, Some(PoolDef::Apig(_))) {
            f.error(
                &at,
                "",
                "applies only to a vpc_channel scenario",
                Code::NONE,
            );
        }
        let canon = [Seg::Key("vpc_channel".into())];
        let ch = deserialize_at::<apig::VpcChannel>(body, &at, &canon, f)?;
        ch.validate(&at, f);
        Some(ch)
    });
    if actions.len() != 1 {
        return None;
    }
    // exactly one action is present: the first that is
    let key = |k: &String| k.clone();
    e.member_down
        .as_ref()
        .map(|k| Given::MemberDown(key(k)))
        .or_else(|| e.member_up.as_ref().map(|k| Given::MemberUp(key(k))))
        .or_else(|| {
            let m = e.member_slow.as_ref()?;
            Some(Given::MemberSlow(m.member.clone(), m.factor))
        })
        .or_else(|| az_down.map(Given::AzDown))
        .or_else(|| az_up.map(Given::AzUp))
        .or_else(|| {
            let w = e.set_weight.as_ref()?;
            Some(Given::SetWeight(w.member.clone(), w.weight))
        })
        .or_else(|| {
            e.remove_member
                .as_ref()
                .map(|k| Given::RemoveMember(key(k)))
        })
        .or_else(|| e.set_rate.map(Given::SetRate))
        .or(add_members)
        .or_else(|| update_pool.map(|p| Given::UpdatePool(Box::new(p))))
        .or_else(|| update_channel.map(|c| Given::UpdateChannel(Box::new(c))))
}

#[derive(Deserialize)]
struct PoolBody {
    pool: elb::Pool,
}

#[derive(Deserialize)]
struct ElbMembersBody {
    members: Vec<elb::Member>,
}

#[derive(Deserialize)]
struct ApigMembersBody {
    members: Vec<apig::VpcMember>,
}

/// Seed 000: the `PUT …/pools/{id}` body, `{"pool": {…}}`; the pool's protocol carries over.
fn update_pool(
    pool: Option<&PoolDef>,
    master_slave: bool,
    body: &Value,
    at: &str,
    f: &mut Findings,
) -> Option<elb::Pool> {
    let Some(PoolDef::Elb(base)) = pool else {
        f.error(at, "", "applies only to a pool scenario", Code::NONE);
        return None;
    };
    // a field the update API does not take (a health monitor, members, the protocol) has its
    // own API or is fixed at creation: the run keeps the pool's own
    for key in body
        .get("pool")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !elb::POOL_PUT_FIELDS.contains(&k.as_str()))
    {
        f.warn(
            &format!("{at}.pool.{key}"),
            "",
            "is not a field of the pool update (seed 000 UpdatePoolOption); the run ignores it",
        );
    }
    let update = deserialize_at::<PoolBody>(body, at, &[], f)?;
    let merged = elb::apply_pool_update(base, &update.pool);
    let mut sub = Findings::new("");
    merged.validate_update("pool", master_slave, &mut sub);
    for item in sub
        .items
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
    {
        let path = item.path.replacen("pool", &format!("{at}.pool"), 1);
        f.push(item.severity, &path, item.value, item.rule, item.code);
    }
    Some(update.pool)
}

/// Seed 004: `{"members": [...]}`, ELB or channel members per dialect.
fn add_members(
    pool: Option<&PoolDef>,
    master_slave: bool,
    body: &Value,
    at: &str,
    f: &mut Findings,
) -> Option<Given> {
    let members_at = |i: usize| format!("{at}.members[{i}]");
    match pool? {
        PoolDef::Elb(pool) => {
            let canon = [Seg::Key("pool".into())];
            let b = deserialize_at::<ElbMembersBody>(body, at, &canon, f)?;
            // each member as the pool's rules check one; duplicates and roles are checked
            // against the members of the pool at the event's time
            for (i, m) in b.members.iter().enumerate() {
                pool.validate_member(&members_at(i), m, f);
                if master_slave {
                    elb::Pool::validate_role(&members_at(i), m, f);
                } else if let Some(role) = &m.role {
                    let rule = "is a field of master-slave pool members only (seed 002)";
                    f.error(&format!("{}.role", members_at(i)), role, rule, Code::ELB);
                }
            }
            Some(Given::AddElbMembers(b.members))
        }
        PoolDef::Apig(channel) => {
            let canon = [Seg::Key("vpc_channel".into())];
            let b = deserialize_at::<ApigMembersBody>(body, at, &canon, f)?;
            let groups = channel.member_groups.as_deref().unwrap_or_default();
            let ecs = channel.member_type.as_deref() == Some("ecs");
            for (i, m) in b.members.iter().enumerate() {
                m.validate(&members_at(i), ecs, groups, f);
            }
            Some(Given::AddChannelMembers(b.members))
        }
    }
}

/// The members at a point of the timeline: every index ever given (indices are never reused)
/// and the key of each member that exists now.
struct Roster {
    keys: Vec<String>,
    live: BTreeMap<String, MemberIdx>,
}

impl Roster {
    fn new(keys: &[String]) -> Roster {
        let mut r = Roster {
            keys: Vec::with_capacity(keys.len()),
            live: BTreeMap::new(),
        };
        for k in keys {
            r.add(k.clone());
        }
        r
    }

    fn add(&mut self, key: String) -> MemberIdx {
        let i = self.keys.len() as MemberIdx;
        self.live.insert(key.clone(), i);
        self.keys.push(key);
        i
    }

    fn remove(&mut self, key: &str) {
        self.live.remove(key);
    }

    fn index(&self, key: &str) -> Option<MemberIdx> {
        self.live.get(key).copied()
    }
}

/// An ELB member as duplicates and roles are judged: its address as the API compares it, its
/// port and its role.
type ElbSlot = (String, i64, Tier);

/// ELB members at a point of the timeline, by index and by (address, port).
struct ElbMembers {
    slots: Vec<Option<ElbSlot>>,
    at: BTreeMap<(String, i64), MemberIdx>,
    /// Live masters and slaves of a master-slave pool.
    roles: [usize; 2],
    /// Keys the pool's own members' names and addresses stand for.
    own_uses: BTreeMap<String, usize>,
}

impl ElbMembers {
    /// The pool's own members. Two with one key (a `name` that is another member's name or
    /// address) are an error at `pool.members[i]`; a repeated address and port is one already.
    fn new(pool: &elb::Pool, zones: &[String], f: &mut Findings) -> ElbMembers {
        let own = pool.members.as_deref().unwrap_or_default();
        let mut m = ElbMembers {
            slots: Vec::new(),
            at: BTreeMap::new(),
            roles: [0, 0],
            own_uses: elb::own_key_uses(own),
        };
        let mut keys: BTreeMap<String, usize> = BTreeMap::new();
        for (i, member) in elb::added_members(&BTreeMap::new(), own, zones) {
            let (addr, port, _) = Self::slot(&member);
            let repeated = m.at.contains_key(&(addr, port));
            match keys.get(&member.key) {
                Some(first) if !repeated => {
                    let rule =
                        format!("has the key of pool.members[{first}]: give it another name");
                    f.error(&format!("pool.members[{i}]"), &member.key, rule, Code::NONE);
                }
                _ => {
                    keys.entry(member.key.clone()).or_insert(i);
                }
            }
            m.add(&member);
        }
        m
    }

    fn slot(member: &model::Member) -> ElbSlot {
        let addr = canonical(&member.address).into_owned();
        (addr, i64::from(member.port), member.tier)
    }

    fn add(&mut self, member: &model::Member) {
        let (addr, port, tier) = Self::slot(member);
        let i = self.slots.len() as MemberIdx;
        self.at.entry((addr.clone(), port)).or_insert(i);
        self.count(tier, 1);
        self.slots.push(Some((addr, port, tier)));
    }

    fn remove(&mut self, i: MemberIdx) {
        let Some(Some((addr, port, tier))) = self.slots.get_mut(i as usize).map(Option::take)
        else {
            return;
        };
        if self.at.get(&(addr.clone(), port)) == Some(&i) {
            self.at.remove(&(addr, port));
        }
        self.count(tier, -1);
    }

    fn count(&mut self, tier: Tier, by: isize) {
        let i = match tier {
            Tier::Master => 0,
            Tier::Slave => 1,
            _ => return,
        };
        self.roles[i] = self.roles[i].saturating_add_signed(by);
    }
}

/// The state the run will have at each event: who the members are, and the pool or channel
/// as earlier events left it.
struct Timeline<'a> {
    roster: Roster,
    zones: &'a [String],
    /// An ELB pool's settings (no members) and its members.
    elb: Option<(elb::Pool, ElbMembers)>,
    channel: Option<apig::ChannelState>,
}

impl<'a> Timeline<'a> {
    fn new(
        pool: Option<&PoolDef>,
        keys: &[String],
        zones: &'a [String],
        f: &mut Findings,
    ) -> Timeline<'a> {
        Timeline {
            roster: Roster::new(keys),
            zones,
            elb: match pool {
                Some(PoolDef::Elb(p)) => {
                    let settings = elb::apply_pool_update(p, &elb::Pool::default());
                    Some((settings, ElbMembers::new(p, zones, f)))
                }
                _ => None,
            },
            channel: match pool {
                Some(PoolDef::Apig(c)) => Some(apig::ChannelState::new(c)),
                _ => None,
            },
        }
    }

    /// The member `key` names now; an error at `path` when it names none.
    fn member(&self, key: &str, path: &str, f: &mut Findings) -> Option<MemberIdx> {
        let found = self.roster.index(key);
        if found.is_none() {
            let mut rule = String::from("names no member of the pool");
            if self.roster.keys.iter().any(|k| k == key) {
                rule.push_str(" at its time (it was removed before)");
            } else {
                let known = self.roster.live.keys().map(String::as_str);
                if let Some(sg) = suggest::closest(key, known) {
                    rule.push_str(&format!(" (did you mean {sg}?)"));
                }
            }
            f.error(path, key, rule, Code::NONE);
        }
        found
    }

    fn resolve(&mut self, given: &Given, p: &str, f: &mut Findings) -> Option<EventAction> {
        Some(match given {
            Given::MemberDown(k) => {
                EventAction::MemberDown(self.member(k, &format!("{p}.member_down"), f)?)
            }
            Given::MemberUp(k) => {
                EventAction::MemberUp(self.member(k, &format!("{p}.member_up"), f)?)
            }
            Given::MemberSlow(k, factor) => EventAction::MemberSlow {
                member: self.member(k, &format!("{p}.member_slow.member"), f)?,
                factor: *factor,
            },
            Given::AzDown(z) => EventAction::AzDown(*z),
            Given::AzUp(z) => EventAction::AzUp(*z),
            Given::SetWeight(k, weight) => {
                let member = self.member(k, &format!("{p}.set_weight.member"), f)?;
                if let Some(c) = self.channel.as_mut() {
                    c.set_weight(k, *weight);
                }
                EventAction::SetWeight {
                    member,
                    weight: (*weight).max(0) as u32,
                }
            }
            Given::RemoveMember(k) => {
                let member = self.member(k, &format!("{p}.remove_member"), f)?;
                match (&mut self.elb, &mut self.channel) {
                    // refused by the run under deletion protection: the member stays
                    (Some((pool, _)), _)
                        if pool.member_deletion_protection_enable == Some(true) => {}
                    (Some((_, members)), _) => {
                        members.remove(member);
                        self.roster.remove(k);
                    }
                    (_, Some(c)) => {
                        c.remove(k);
                        self.roster.remove(k);
                    }
                    (None, None) => {}
                }
                EventAction::RemoveMember(member)
            }
            Given::SetRate(r) => EventAction::SetRate(*r),
            Given::AddElbMembers(body) => self.add_elb_members(body, p, f)?,
            Given::AddChannelMembers(members) => {
                let diff = self
                    .channel
                    .as_mut()?
                    .add_members(members.clone(), self.zones);
                self.channel_change(diff, None)
            }
            Given::UpdatePool(update) => {
                let (current, _) = self.elb.as_mut()?;
                *current = elb::apply_pool_update(current, update);
                EventAction::UpdatePool(Box::new(current.clone()))
            }
            Given::UpdateChannel(update) => {
                let diff = self
                    .channel
                    .as_mut()?
                    .update((**update).clone(), self.zones);
                self.channel_change(diff, Some((**update).clone()))
            }
        })
    }

    /// Members an ELB add-members body adds. An address and port the pool has at the event's
    /// time, a second master or slave in a master-slave pool, or a key another member has, is
    /// an error at the member's path.
    fn add_elb_members(
        &mut self,
        body: &[elb::Member],
        p: &str,
        f: &mut Findings,
    ) -> Option<EventAction> {
        let (_, members) = self.elb.as_mut()?;
        let mut added = Vec::new();
        for (j, m) in elb::added_members(&members.own_uses, body, self.zones) {
            let mp = format!("{p}.add_members.members[{j}]");
            let (addr, port, tier) = ElbMembers::slot(&m);
            if let Some(&i) = members.at.get(&(addr, port)) {
                let rule = format!(
                    "with port {port} is already a member of the pool ({})",
                    self.roster.keys[i as usize]
                );
                f.error(&format!("{mp}.address"), &m.address, rule, Code::ELB);
                continue;
            }
            let role = match tier {
                Tier::Master => Some((0, "master")),
                Tier::Slave => Some((1, "slave")),
                _ => None,
            };
            if let Some((_, name)) = role.filter(|(r, _)| members.roles[*r] > 0) {
                let rule = format!(
                    "adds a second {name}: a master-slave pool has one master and one slave (seed 002)"
                );
                f.error(&format!("{mp}.role"), name, rule, Code::ELB);
                continue;
            }
            if self.roster.index(&m.key).is_some() {
                let rule = "is the key of a member the pool has: give the member another name";
                f.error(&mp, &m.key, rule, Code::NONE);
                continue;
            }
            members.add(&m);
            self.roster.add(m.key.clone());
            added.push(m);
        }
        Some(EventAction::AddMembers(added))
    }

    /// A channel diff with its members named by index; added members take the next indices.
    fn channel_change(
        &mut self,
        diff: apig::ChannelDiff,
        channel: Option<apig::VpcChannel>,
    ) -> EventAction {
        // every member the channel has came from the pool or an earlier diff: the roster
        // knows them all
        let index = |k: &String| self.roster.index(k);
        let removed = diff.removed.iter().filter_map(index).collect();
        let changed = diff
            .changed
            .iter()
            .filter_map(|(k, c)| Some((index(k)?, *c)))
            .collect();
        for k in &diff.removed {
            self.roster.remove(k);
        }
        for m in &diff.added {
            self.roster.add(m.key.clone());
        }
        EventAction::UpdateChannel(Box::new(ChannelChange {
            removed,
            changed,
            added: diff.added,
            channel,
        }))
    }
}
