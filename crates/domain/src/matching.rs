//! Assigning patients without a médecin traitant to general practitioners who can take them.
//!
//! Objective (lexicographic): among all feasible assignments — each request to at most one doctor, no doctor
//! above their capacity, no pair further apart than the allowed distance — **maximise the total priority
//! weight of the matched requests, then minimise the total distance** (great-circle, counted in whole
//! centimetres so that the optimum is exact).
//!
//! Solved exactly as a minimum-cost circulation (source → request → doctor → sink → source). The two criteria
//! become one integer cost per arc: a matched request earns −weight × `unit`, where `unit` exceeds any total
//! distance a solution could have, and a request–doctor arc costs its distance; so one more unit of weight
//! always beats any saving in distance. The circulation is found by Goldberg's cost scaling with
//! push–relabel, whose running time does not grow with the number of matched requests the way one-path-at-a-
//! time methods do. Requests at the same place with the same weight, and doctors at the same place with the
//! same distance limit, are interchangeable: they are merged before solving (a commune holds many of them),
//! which shrinks the network several times at national scale, and split again afterwards.

use std::collections::{HashMap, VecDeque};

/// A request: where the patient lives and how urgent finding a doctor is.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRequest {
    pub id: String,
    pub position: (f64, f64),
    /// Priority weight, at least 1.
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchDoctor {
    pub id: String,
    pub position: (f64, f64),
    pub capacity: u32,
    /// The doctor's own limit, on top of the problem's.
    pub max_distance_km: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub request: usize,
    pub doctor: usize,
    pub distance_km: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matching {
    pub assignments: Vec<Assignment>,
    /// Indexes of the requests left without a doctor.
    pub unassigned: Vec<usize>,
    pub total_weight: u64,
    pub total_distance_km: f64,
}

/// The distance allowed between a request and a doctor.
fn limit_km(doctor: &MatchDoctor, max_distance_km: f64) -> f64 {
    doctor
        .max_distance_km
        .map_or(max_distance_km, |own| own.min(max_distance_km))
}

/// Distances are compared in whole centimetres: exact integer arithmetic, and far below any real difference.
fn centimetres(km: f64) -> i64 {
    (km * 100_000.0).round() as i64
}

/// Requests (or doctors) that the objective cannot tell apart.
struct Group {
    position: (f64, f64),
    members: Vec<usize>,
}

struct RequestGroup {
    group: Group,
    weight: u32,
}

struct DoctorGroup {
    group: Group,
    limit_km: f64,
    capacity: i64,
}

fn place_key(position: (f64, f64)) -> (u64, u64) {
    (position.0.to_bits(), position.1.to_bits())
}

fn request_groups(requests: &[MatchRequest], merge: bool) -> Vec<RequestGroup> {
    let mut index: HashMap<((u64, u64), u32, usize), usize> = HashMap::new();
    let mut groups: Vec<RequestGroup> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let slot = *index
            .entry((
                place_key(request.position),
                request.weight,
                if merge { 0 } else { i },
            ))
            .or_insert_with(|| {
                groups.push(RequestGroup {
                    group: Group {
                        position: request.position,
                        members: Vec::new(),
                    },
                    weight: request.weight,
                });
                groups.len() - 1
            });
        groups[slot].group.members.push(i);
    }
    groups
}

fn doctor_groups(doctors: &[MatchDoctor], max_distance_km: f64, merge: bool) -> Vec<DoctorGroup> {
    let mut index: HashMap<((u64, u64), u64, usize), usize> = HashMap::new();
    let mut groups: Vec<DoctorGroup> = Vec::new();
    for (j, doctor) in doctors.iter().enumerate() {
        if doctor.capacity == 0 {
            continue;
        }
        let limit = limit_km(doctor, max_distance_km);
        let slot = *index
            .entry((
                place_key(doctor.position),
                limit.to_bits(),
                if merge { 0 } else { j },
            ))
            .or_insert_with(|| {
                groups.push(DoctorGroup {
                    group: Group {
                        position: doctor.position,
                        members: Vec::new(),
                    },
                    limit_km: limit,
                    capacity: 0,
                });
                groups.len() - 1
            });
        groups[slot].group.members.push(j);
        groups[slot].capacity += i64::from(doctor.capacity);
    }
    groups
}

/// Pairs (request group, doctor group, distance) within reach. Doctors are sorted by latitude: a great-circle
/// distance is never shorter than the difference in latitude, so only a band of latitudes needs the exact test.
fn pairs_in_reach(
    requests: &[RequestGroup],
    doctors: &[DoctorGroup],
    max_distance_km: f64,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Vec<(usize, usize, f64)> {
    let mut by_latitude: Vec<usize> = (0..doctors.len()).collect();
    by_latitude.sort_by(|a, b| {
        doctors[*a]
            .group
            .position
            .0
            .total_cmp(&doctors[*b].group.position.0)
    });
    let latitudes: Vec<f64> = by_latitude
        .iter()
        .map(|j| doctors[*j].group.position.0)
        .collect();
    let widest = doctors
        .iter()
        .map(|d| d.limit_km)
        .fold(0.0_f64, f64::max)
        .min(max_distance_km);
    let band_degrees = (widest / crate::territory::EARTH_RADIUS_KM).to_degrees() + 1e-9;
    let mut pairs = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let latitude = request.group.position.0;
        let first = latitudes.partition_point(|l| *l < latitude - band_degrees);
        let last = latitudes.partition_point(|l| *l <= latitude + band_degrees);
        for &j in &by_latitude[first..last] {
            let doctor = &doctors[j];
            let distance =
                crate::territory::distance_km(request.group.position, doctor.group.position);
            if distance <= doctor.limit_km
                && allowed(request.group.members[0], doctor.group.members[0])
            {
                pairs.push((i, j, distance));
            }
        }
    }
    pairs
}

/// A flow network whose arcs are stored node by node (each arc knows its reverse through `reverse`).
struct Network {
    first: Vec<usize>,
    head: Vec<usize>,
    reverse: Vec<usize>,
    residual: Vec<i64>,
    cost: Vec<i128>,
}

struct ArcSpec {
    from: usize,
    to: usize,
    capacity: i64,
    cost: i128,
}

impl Network {
    /// Builds the network; returns it with the position of each given arc.
    fn build(nodes: usize, arcs: &[ArcSpec]) -> (Self, Vec<usize>) {
        let mut degree = vec![0usize; nodes + 1];
        for arc in arcs {
            degree[arc.from + 1] += 1;
            degree[arc.to + 1] += 1;
        }
        for u in 0..nodes {
            degree[u + 1] += degree[u];
        }
        let first = degree.clone();
        let mut next = degree;
        let total = 2 * arcs.len();
        let mut network = Network {
            first,
            head: vec![0; total],
            reverse: vec![0; total],
            residual: vec![0; total],
            cost: vec![0; total],
        };
        let mut positions = Vec::with_capacity(arcs.len());
        for arc in arcs {
            let forward = next[arc.from];
            next[arc.from] += 1;
            let backward = next[arc.to];
            next[arc.to] += 1;
            network.head[forward] = arc.to;
            network.head[backward] = arc.from;
            network.reverse[forward] = backward;
            network.reverse[backward] = forward;
            network.residual[forward] = arc.capacity;
            network.cost[forward] = arc.cost;
            network.cost[backward] = -arc.cost;
            positions.push(forward);
        }
        (network, positions)
    }

    fn nodes(&self) -> usize {
        self.first.len() - 1
    }

    fn push(&mut self, arc: usize, amount: i64, excess: &mut [i64], from: usize) {
        self.residual[arc] -= amount;
        self.residual[self.reverse[arc]] += amount;
        excess[from] -= amount;
        excess[self.head[arc]] += amount;
    }

    /// Minimum-cost circulation by cost scaling (Goldberg 1997). Costs are multiplied by n + 1 so that the
    /// final 1-optimal circulation is (1/(n + 1))-optimal for the true costs, hence optimal since they are
    /// integers.
    fn minimum_cost_circulation(&mut self) {
        const SCALE_STEP: i128 = 8;
        let nodes = self.nodes();
        let factor = nodes as i128 + 1;
        for cost in self.cost.iter_mut() {
            *cost *= factor;
        }
        let mut epsilon = self.cost.iter().map(|c| c.abs()).max().unwrap_or(0);
        let mut price = vec![0i128; nodes];
        let mut excess = vec![0i64; nodes];
        while epsilon > 1 {
            epsilon = (epsilon / SCALE_STEP).max(1);
            self.refine(epsilon, &mut price, &mut excess);
        }
    }

    /// Turns an ε·α-optimal circulation into an ε-optimal one.
    fn refine(&mut self, epsilon: i128, price: &mut [i128], excess: &mut [i64]) {
        let nodes = self.nodes();
        for u in 0..nodes {
            for arc in self.first[u]..self.first[u + 1] {
                let amount = self.residual[arc];
                if amount > 0 && self.cost[arc] + price[u] - price[self.head[arc]] < 0 {
                    self.push(arc, amount, excess, u);
                }
            }
        }
        let mut active: VecDeque<usize> = (0..nodes).filter(|u| excess[*u] > 0).collect();
        let mut current = self.first[..nodes].to_vec();
        while let Some(u) = active.pop_front() {
            while excess[u] > 0 {
                if current[u] == self.first[u + 1] {
                    // Relabel: lower the price just enough for the best residual arc to become admissible.
                    let mut best = i128::MIN;
                    for arc in self.first[u]..self.first[u + 1] {
                        if self.residual[arc] > 0 {
                            best = best.max(price[self.head[arc]] - self.cost[arc]);
                        }
                    }
                    if best == i128::MIN {
                        // Cannot happen in a circulation (an excess always has a way back); stop rather than spin.
                        break;
                    }
                    price[u] = best - epsilon;
                    current[u] = self.first[u];
                    continue;
                }
                let arc = current[u];
                let to = self.head[arc];
                if self.residual[arc] > 0 && self.cost[arc] + price[u] - price[to] < 0 {
                    let amount = excess[u].min(self.residual[arc]);
                    let was_active = excess[to] > 0;
                    self.push(arc, amount, excess, u);
                    if !was_active && excess[to] > 0 {
                        active.push_back(to);
                    }
                } else {
                    current[u] += 1;
                }
            }
        }
    }
}

/// The optimal assignment (see the module documentation). Requests with no doctor in reach stay unassigned.
pub fn solve(requests: &[MatchRequest], doctors: &[MatchDoctor], max_distance_km: f64) -> Matching {
    solve_inner(requests, doctors, max_distance_km, true, &|_, _| true)
}

/// The same optimum when some pairs are ruled out beyond distance (a doctor's communes or age groups, a
/// proposal already declined): `allowed(request, doctor)` says which pairs may be matched. Requests and
/// doctors are then not merged, which suits a CPTS's few thousand requests.
pub fn solve_with(
    requests: &[MatchRequest],
    doctors: &[MatchDoctor],
    max_distance_km: f64,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Matching {
    solve_inner(requests, doctors, max_distance_km, false, allowed)
}

fn solve_inner(
    requests: &[MatchRequest],
    doctors: &[MatchDoctor],
    max_distance_km: f64,
    merge: bool,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Matching {
    let request_groups = request_groups(requests, merge);
    let doctor_groups = doctor_groups(doctors, max_distance_km, merge);
    let pairs = pairs_in_reach(&request_groups, &doctor_groups, max_distance_km, allowed);

    let (source, sink) = (0, 1);
    let request_node = |g: usize| 2 + g;
    let doctor_node = |g: usize| 2 + request_groups.len() + g;
    let nodes = 2 + request_groups.len() + doctor_groups.len();
    // One unit of weight must outweigh the longest total distance any solution could have.
    let mut longest = vec![0i64; request_groups.len()];
    for (g, _, distance) in &pairs {
        longest[*g] = longest[*g].max(centimetres(*distance));
    }
    let unit: i128 = 1 + request_groups
        .iter()
        .zip(&longest)
        .map(|(group, cm)| group.group.members.len() as i128 * i128::from(*cm))
        .sum::<i128>();
    let total_requests = requests.len() as i64;

    let mut arcs = Vec::with_capacity(pairs.len() + request_groups.len() + doctor_groups.len() + 1);
    for (g, group) in request_groups.iter().enumerate() {
        arcs.push(ArcSpec {
            from: source,
            to: request_node(g),
            capacity: group.group.members.len() as i64,
            cost: -i128::from(group.weight) * unit,
        });
    }
    let first_pair = arcs.len();
    for (g, d, distance) in &pairs {
        arcs.push(ArcSpec {
            from: request_node(*g),
            to: doctor_node(*d),
            capacity: request_groups[*g].group.members.len() as i64,
            cost: i128::from(centimetres(*distance)),
        });
    }
    for (d, group) in doctor_groups.iter().enumerate() {
        arcs.push(ArcSpec {
            from: doctor_node(d),
            to: sink,
            capacity: group.capacity,
            cost: 0,
        });
    }
    arcs.push(ArcSpec {
        from: sink,
        to: source,
        capacity: total_requests,
        cost: 0,
    });
    let (mut network, positions) = Network::build(nodes, &arcs);
    network.minimum_cost_circulation();

    // Split each group-to-group flow between the interchangeable requests and doctors.
    let mut waiting: Vec<std::slice::Iter<usize>> = request_groups
        .iter()
        .map(|g| g.group.members.iter())
        .collect();
    let mut room: Vec<Vec<(usize, u32)>> = doctor_groups
        .iter()
        .map(|g| {
            g.group
                .members
                .iter()
                .map(|j| (*j, doctors[*j].capacity))
                .collect()
        })
        .collect();
    let mut matching = Matching::default();
    let mut assigned = vec![false; requests.len()];
    for (k, (g, d, distance)) in pairs.iter().enumerate() {
        let arc = positions[first_pair + k];
        let flow = arcs[first_pair + k].capacity - network.residual[arc];
        for _ in 0..flow {
            let (Some(&i), Some(slot)) = (waiting[*g].next(), room[*d].last_mut()) else {
                break;
            };
            let j = slot.0;
            slot.1 -= 1;
            if slot.1 == 0 {
                room[*d].pop();
            }
            assigned[i] = true;
            matching.total_weight += u64::from(requests[i].weight);
            matching.total_distance_km += distance;
            matching.assignments.push(Assignment {
                request: i,
                doctor: j,
                distance_km: *distance,
            });
        }
    }
    matching.assignments.sort_by_key(|a| a.request);
    matching.unassigned = (0..requests.len()).filter(|i| !assigned[*i]).collect();
    matching
}

#[cfg(test)]
mod tests;
