"""Page quotes and rules of CRITERIA.md (catalogue 2025-03-31.2), one entry per criterion."""

CATALOGUE_TEXT: dict[str, tuple[str, str]] = {
    "inc.age": (
        "Adults [≥] 18 to < 70 years of age.",
        "Rule: age = whole years on C. PASS if 18 ≤ age ≤ 69; FAIL otherwise.",
    ),
    "inc.consent": (
        "Signed and dated ICF indicating that the participant has been informed of all pertinent aspects of the study.",
        "Rule: PASS if dates.icf_signed is recorded and ≤ T. Otherwise MISSING [dates.icf_signed]. Never FAIL.",
    ),
    "inc.heme.support": (
        "Adequate hematological function without growth factor or transfusion support for at least 7 days prior to enrollment, including: …",
        "Decision: the support-free period is anchored on the haematology draw and runs to enrollment. Let H = the earliest collected date among the usable haematology results. Support counts if its date is after H − 7 days (that is, on or after H − 6 days) and ≤ T. So the last support must be at least 7 days before the counts that qualify the participant, and none may follow them. *Why*: counts drawn 3 days after a transfusion or G-CSF do not show the participant's own marrow function, even if enrollment is 8 days later (the page's intent). Support given between the draw and enrollment breaks the page's literal \"7 days prior to enrollment\". This reading satisfies both. Counting events: every growth_factor event (G-CSF, pegfilgrastim, GM-CSF, erythropoiesis-stimulating agents, thrombopoietin-receptor agonists; date = last dose, or the start with ongoing = true, which is read as dated T, § 1.5) and every transfusion with product red_cells, platelets or whole_blood. Plasma and other products do not count. Rule: 1. No usable haematology result → MISSING [labs.anc, labs.platelets, labs.hemoglobin, labs.alc]. 2. A counting event in the span → FAIL (reason: the event and its date). 3. Otherwise PASS if both growth_factor and transfusion are reviewed; else MISSING [reviewed.growth_factor and/or reviewed.transfusion, whichever is not reviewed].",
    ),
    "inc.heme.anc": (
        "Absolute neutrophil count [≥] 1000 [/µ]L",
        "Rule: selected anc usable: PASS if ANC ≥ 1000/µL, FAIL if < 1000/µL. Not usable: MISSING [labs.anc].",
    ),
    "inc.heme.platelets": (
        "Platelet count ≥ 75,000/uL",
        "Rule: PASS if platelets ≥ 75 000/µL; FAIL if < 75 000/µL; MISSING [labs.platelets].",
    ),
    "inc.heme.hemoglobin": (
        "Hemoglobin [≥] 8 g/dL",
        "Rule: PASS if haemoglobin ≥ 8 g/dL; FAIL if < 8 g/dL; MISSING [labs.hemoglobin].",
    ),
    "inc.heme.alc": (
        "Absolute Lymphocyte count ≥ 1000/uL",
        "Rule: PASS if ALC ≥ 1000/µL; FAIL if < 1000/µL; MISSING [labs.alc].",
    ),
    "inc.crcl": (
        "Creatinine clearance (CrCl) [≥] 50 mL/min using the Cockcroft-Gault formula.",
        "Rule: CrCl by § 10.1. PASS if CrCl ≥ 50 mL/min; FAIL if < 50. MISSING [labs.creatinine and/or labs.weight, whichever is not usable].",
    ),
    "inc.organ_function": (
        "Adequate liver, cardiac, and pulmonary function, including: See Protocol",
        "Rule: three boolean parts, each passing on true: inv_adequate_liver_function, inv_adequate_cardiac_function, inv_adequate_pulmonary_function. Combined by § 1.3.",
    ),
    "inc.prior_ae_resolved": (
        "Resolved acute effects of any prior therapy to baseline severity or Common Terminology [Criteria for Adverse Events Grade ≤] 1 except for AEs considered clinically nonsignificant and/or stable on supportive therapy as determined by the Investigator.",
        "Rule: boolean criterion inv_prior_therapy_aes_resolved, passing on true.",
    ),
    "inc.pregnancy_test": (
        "A highly sensitive urine pregnancy test or serum pregnancy test (for females of childbearing potential) negative at screening.",
        "Applies: sex = F with childbearing potential yes or unknown (§ 10.2). NOT_APPLICABLE for males and for females not of childbearing potential. Rule: selected pregnancy_test (urine or serum) usable: PASS if negative, FAIL if positive, MISSING [labs.pregnancy_test] if indeterminate (the reason asks for a repeat test). Not usable: MISSING [labs.pregnancy_test].",
    ),
    "inc.childbearing_status": (
        "Female participants of non-childbearing potential must meet at least 1 of the following criteria: postmenopausal status … ; documented hysterectomy and/or bilateral oophorectomy; medically confirmed ovarian failure / ovarian insufficiency. All other female participants (including those with tubal ligations) are considered to be of childbearing potential.",
        "Applies: sex = F; NOT_APPLICABLE for males. Rule: childbearing_exemption unrecorded → MISSING [facts.childbearing_exemption]. postmenopausal with age on C below 50, or with any cyclophosphamide therapy entry → REVIEW, investigator: the investigator confirms the postmenopausal state (for example by FSH), because amenorrhoea after cyclophosphamide or in a young woman is often not menopause. Any other recorded value → PASS (the reason states the derived status, § 10.2). The computed outcome is never FAIL: the enumeration only allows the page's exemptions (an investigator's reject makes it FAIL, § 1.8, until the exemption is corrected).",
    ),
    "inc.contraception": (
        "Fertile male and female participants of childbearing potential must be willing to use a highly effective method of contraception from the time of signing the ICF and for at least 12 months (6 months for males) after receiving LD or ALLO329, whichever is longer.",
        "Rule, female: not of childbearing potential → NOT_APPLICABLE. willing_contraception = true → PASS. False → FAIL if childbearing potential is yes, MISSING [facts.childbearing_exemption] if unknown (exemption unrecorded, or a postmenopausal state not yet confirmed: § 10.2). Unrecorded → MISSING [facts.willing_contraception], plus [facts.childbearing_exemption] if unknown. Rule, male: male_sterile = true → NOT_APPLICABLE. willing_contraception = true → PASS. False → FAIL if male_sterile = false, MISSING [facts.male_sterile] if unrecorded. Unrecorded → MISSING [facts.willing_contraception].",
    ),
    "inc.compliance": (
        "Willing and able to comply with scheduled visits, treatment plan, laboratory tests, and other procedures.",
        "Rule: boolean criterion willing_able_to_comply, passing on true. Confidence: high.",
    ),
    "sle.slicc": (
        "SLE defined by the Systemic Lupus International Collaborating Clinics (SLICC) criteria.",
        "Rule: (SLICC 2012): met if slicc_biopsy_proven_ln = true, or if clinical ≥ 1 and immunologic ≥ 1 and clinical + immunologic ≥ 4. PASS if met. FAIL if slicc_biopsy_proven_ln = false and (clinical = 0, or immunologic = 0, or both counts are recorded and the count rule is not met): the count rule needs at least one criterion of each kind, so a zero decides it. Otherwise MISSING (the unrecorded facts among the three).",
    ),
    "sle.autoantibody": (
        "Positive for at least 1 of the following autoantibodies at screening: Anti-dsDNA above the upper limit of normal (ULN); Anti-Sm above the ULN; Anti-RNP above the ULN",
        "Positive: a numeric result with value > uln (strictly above), or a qualitative positive. negative and indeterminate are not positive. Rule: PASS if any usable result is positive. FAIL if all three are usable and none is positive. Otherwise MISSING (the tests whose results are not usable).",
    ),
    "sle.sledai": (
        "Active (moderate-severe) disease as defined by: SLEDAI-2K [≥] 6 and at least 1 of the following significant SLE-related organ involvements: …",
        "Applies: lupus_nephritis = false. LN: NOT_APPLICABLE (the LN stratum qualifies through sle.ln_biopsy). Rule: dated fact sledai2k usable: PASS if ≥ 6, FAIL if < 6. Otherwise MISSING [facts.sledai2k].",
    ),
    "sle.organ_involvement": (
        "… at least 1 of the following significant SLE-related organ involvements: At least one BILAG A OR two BILAG B manifestations.",
        "Applies: lupus_nephritis = false. LN: NOT_APPLICABLE. Rule: dated fact bilag2004 usable, with the nine BILAG-2004 domains graded A–E (§ 10.3). Two parts: - PASS if at least one domain is A or at least two domains are B; FAIL otherwise; - renal domain A or B → REVIEW, investigator (active renal disease in the non-LN stratum: the investigator confirms the stratum; a participant with active LN belongs to the LN stratum and needs a biopsy, Q5); otherwise no part. Combined by § 1.3. Not usable: MISSING [facts.bilag2004].",
    ),
    "sle.ln_biopsy": (
        "Active lupus nephritis (LN) as determined by a recent kidney biopsy (within 6 months) showing Class III or IV +/- Class V according to International Society of Nephrology (ISN)/Renal Pathology Society (RPS) 2003 classification (with 2018 modification). Modified NIH Activity [threshold lost]. Exception to biopsy after medical monitor discussion with the EAC.",
        "Applies: lupus_nephritis = true. Non-LN: NOT_APPLICABLE. Rule: let B be the kidney_biopsy event with the latest date ≤ T (on a tie, the one listed last). 1. If B exists and its isn_rps_classes contain neither III nor IV → FAIL, whatever its age: the most recent biopsy does not show proliferative LN, and the biopsy exception is for a missing biopsy, not for a non-proliferative one (Q7). 2. If B exists and B.date ≥ E − 6 months (within 6 months before enrollment): - nih_activity_index unrecorded → MISSING [events.kidney_biopsy.nih_activity_index]; - nih_activity_index ≥ the setting → PASS; - nih_activity_index below the setting → REVIEW, eac (reason: below the working threshold; the page's threshold is lost). 3. Otherwise (no biopsy, or the latest, proliferative, is older than 6 months): REVIEW, eac (the EAC biopsy exception) if kidney_biopsy is reviewed; else MISSING [reviewed.kidney_biopsy].",
    ),
    "sle.refractory": (
        "Disease activity as above despite prior treatment with standard of care therapy including at least one immunosuppressive agent for at least 3 months (in addition to HCQ). Definitions of prior therapies for assessing eligibility are provided in Table 4. Intolerance to prior therapy due to AE is acceptable.",
        "Rule: refractory rule R (§ 3.1) with cohort SLE.",
    ),
    "rule_r": (
        "",
        "Counting entry: a listed agent that counts as an immunosuppressant for the participant's cohort; or an other entry with counts_as_immunosuppressant = true (a *candidate*: exposure continuous, dosing interval 0). Qualifying entry: a counting entry with one of: - stopped_for_intolerance = true (any duration); - exposure continuous: end ≥ start + 3 months, where end = T if ongoing, else the earlier of T and last_dose + dosing interval (the last dose of an interval-dosed agent covers one more interval, but exposure never extends past T); - exposure course (B-cell depleting antibodies, cyclophosphamide): T ≥ start + 3 months, so at least 3 months have passed since the first dose of the course. Rule: PASS if a listed entry qualifies. Otherwise REVIEW, investigator, if a candidate qualifies (the investigator confirms that the agent is an immunosuppressant of standard care). Otherwise FAIL if therapies is reviewed, else MISSING [reviewed.therapies].",
    ),
    "iim.classification": (
        "Classification of probable or definite dermatomyositis, IMNM or anti-synthetase syndrome by 2017 EULAR/ACR classification criteria.",
        "Score part: (2017 EULAR/ACR: probable or definite means a probability of at least 55 %, which is a score ≥ 5.5 without a muscle biopsy and ≥ 6.7 with one): - score ≥ 6.7 → PASS; - score < 5.5 → FAIL; - 5.5 ≤ score < 6.7 → PASS if iim_eular_acr_2017_with_biopsy = false, FAIL if true, MISSING [facts.iim_eular_acr_2017_with_biopsy] if unrecorded; - score unrecorded → MISSING [facts.iim_eular_acr_2017_score]. Subtype part: PASS if iim_subtype ∈ {dermatomyositis, amyopathic_dermatomyositis, imnm, antisynthetase_syndrome}; FAIL for any other recorded value; MISSING [facts.iim_subtype]. Rule: the two parts, combined by § 1.3.",
    ),
    "iim.involvement": (
        "Muscle, skin, OR lung involvement as defined by: Recent muscle biopsy; Elevated creatinine phosphokinase (CPK) > 3 × ULN (or aldolase > 8); Rash with Cutaneous Dermatomyositis Area Severity Index (CDASI) > 14 (not counting damage); Presence of interstitial lung disease (ILD) on HRCT with progression as defined by Raghu, 2022",
        "Routes. Each route is met, negative or undecided: - M1 biopsy: met if a muscle_biopsy event with active_myositis = true is dated ≥ E − muscle_biopsy_window_months (default 6). Negative if there is no such event and muscle_biopsy is reviewed (older biopsies, and biopsies without active myositis, are not such events). Otherwise undecided [reviewed.muscle_biopsy]. - M2 enzymes: met if usable CK > 3 × ULN, or if usable aldolase > 8 U/L. Negative if both are usable and neither meets its threshold. Otherwise undecided [labs.ck and/or labs.aldolase, whichever is not usable]; when CK is usable and ≤ 3 × ULN, the reason names aldolase as the one test that could still qualify. - S skin: dated fact cdasi_activity usable: met if > 14, negative if ≤ 14. Not usable: negative if iim_subtype = imnm or dm_rash_present = false (no cutaneous dermatomyositis to score); otherwise undecided [facts.cdasi_activity]. - L lung: dated fact ild_progressive_raghu2022 usable: met if true, negative if false. Otherwise undecided [facts.ild_progressive_raghu2022]. Rule: PASS if any route is met. FAIL if all four are negative. Otherwise MISSING (the union of the undecided lists, in the order M1, M2, S, L).",
    ),
    "iim.refractory": (
        "as sle.refractory.",
        "Rule: refractory rule R (§ 3.1) with cohort IIM.",
    ),
    "ssc.classification": (
        "SSc as defined by the 2013 EULAR/ACR classification criteria.",
        "Rule: PASS if ssc_acr_eular_2013_score ≥ 9; FAIL if < 9; MISSING [facts.ssc_acr_eular_2013_score].",
    ),
    "ssc.disease_duration": (
        "Within 7 years of first non-Raynaud's presentation (or positive skin/lung progression AND discussion with EAC).",
        "Rule: 1. onset unrecorded (or after T) → MISSING [facts.ssc_first_non_raynaud_date]. 2. onset ≥ S − 84 months → PASS. 3. Otherwise (more than 7 years): progression = ssc_skin_or_lung_progression = true, or a usable ild_progressive_raghu2022 = true; either one true counts as progression, even when the other is false. Progression → REVIEW, eac. No progression with ssc_skin_or_lung_progression = false → FAIL. No progression with ssc_skin_or_lung_progression unrecorded → MISSING [facts.ssc_skin_or_lung_progression].",
    ),
    "ssc.activity": (
        "Disease activity: mRSS > 10 (or early progression AND discussion with EAC); Presence of ILD on HRCT with progression as defined by Raghu, 2022; Myositis with CPK > 1.5 × ULN; CRP elevated at [≥] 1.5 × ULN (AND discussion with EAC).",
        "Routes. Automatic routes are A, B and C; EAC routes are A′ and D. Each is met, negative or undecided: | route | met | negative | undecided (missing) | |---|---|---|---| | A skin | usable mrss > 10 | usable mrss ≤ 10 | facts.mrss | | A′ early progression (EAC) | usable mrss ≤ 10 and ssc_early_progression = true | usable mrss ≤ 10 and ssc_early_progression = false; or A is met | facts.ssc_early_progression (if mrss ≤ 10); facts.mrss (if mrss not usable) | | B lung | usable ild_progressive_raghu2022 = true | usable = false | facts.ild_progressive_raghu2022 | | C myositis | ssc_myositis = true and usable CK > 1.5 × ULN | ssc_myositis = false, or usable CK ≤ 1.5 × ULN | facts.ssc_myositis if unrecorded; labs.ck if not usable | | D CRP (EAC) | usable CRP ≥ 1.5 × ULN | usable CRP < 1.5 × ULN | labs.crp | Rule: 1. PASS if A, B or C is met. 2. Else MISSING if A, B or C is undecided (the union of all undecided lists, in the order A, A′, B, C, D). 3. Else (A, B and C are all negative): REVIEW, eac if A′ or D is met, whether or not the other EAC route is decided (it cannot change the outcome: the met route needs the EAC either way). Otherwise MISSING if A′ or D is undecided. Otherwise (both negative) FAIL. So an EAC route leads to REVIEW only when it is the only route left. An undecided automatic route is completed first, because it may make the review unnecessary. The REVIEW's evidence holds the met EAC routes (A′, then D), so a route decided later changes it (§ 1.8).",
    ),
    "ssc.refractory": (
        'as sle.refractory, followed by "See Protocol',
        'Rule: refractory rule R (§ 3.1) with cohort SSc. Whatever the protocol adds after "See Protocol" is unknown (Q14).',
    ),
    "exc.infection": (
        "Participants with active systemic bacterial, fungal, or viral infection requiring systemic treatment or clinically significant active, opportunistic, chronic or recurrent infection … Uncomplicated pharyngitis or urinary tract infection responding to routine care are excepted from this exclusion.",
        "Rule: boolean criterion inv_active_infection, passing on false. The investigator applies the exception for uncomplicated pharyngitis or UTI when recording it.",
    ),
    "exc.malignancy": (
        "Any active malignancy within 3 years prior to enrollment, except for adequately treated localized basal cell or squamous cell skin cancer, carcinoma in situ of the breast, cervix or bladder in observation.",
        "Excepted types: bcc_skin_localized, scc_skin_localized, cis_breast, cis_cervix, cis_bladder. An event of an excepted type with adequately_treated = true is ignored. Status of each other event. active_end = T if still_active = true; else active_until if recorded (an active_until after T means the disease is still active on T); else unknown. - active_end known: the event *counts* if active_end ≥ E − 36 months; otherwise it does not. - active_end unknown: the event *counts* if its date ≥ E − 36 months (diagnosed inside the window); otherwise it is *undecided* [events.malignancy.active_until]. - An excepted type with adequately_treated unrecorded that counts or is undecided is *undecided* [events.malignancy.active_until if its active_end is unknown and its date is outside the window, then events.malignancy.adequately_treated]. Absent data never decides a FAIL. Rule: parts combined by § 1.3: one per event (FAIL if it counts, MISSING with its paths if undecided, none otherwise), then PASS if malignancy is reviewed, else MISSING [reviewed.malignancy].",
    ),
    "exc.prior_targeted_therapy": (
        "Prior treatment with CD19 or CD70 targeted therapy or any prior engineered cell therapy (e.g., CAR T therapy).",
        "Parts: - Therapies: FAIL if any therapy entry's agent has category *CD19/CD70-targeted or engineered cell therapy* in PRIOR-THERAPIES.md, however long ago (entries starting after T are ignored, § 1.5). This includes inebilizumab, an anti-CD19 B-cell depleting antibody. Else PASS if therapies is reviewed, else MISSING [reviewed.therapies]. - boolean part inv_no_prior_cd19_cd70_or_engineered_cell_therapy, passing on true: the investigator attests that no CD19- or CD70-targeted or engineered cell therapy was ever given, including under an other entry or in another trial. Combined by § 1.3.",
    ),
    "exc.live_vaccine": (
        "Received live vaccine within 4 weeks prior to enrollment.",
        "Rule: FAIL if a live_vaccine event is dated ≥ E − 28 days. Else PASS if live_vaccine is reviewed, else MISSING [reviewed.live_vaccine].",
    ),
    "exc.washout": (
        "Inability to stop or taper protocol-defined prior therapies (Table 4) before cell dosing on Day 0: 4 weeks prior to Day 0 for B-cell depleting therapies and 2 weeks or 5 half-lives (whichever is shorter) prior to Day 0 for non-B-cell depleting agents.",
        'Parts, one per therapy entry (start ≤ T). "Ongoing" includes a therapy read as ongoing because its last_dose is after T (§ 1.5), and an interval-dosed agent between two doses. - washout continue or excluded → no part (excluded agents fail exc.prior_targeted_therapy). - washout *N* days, not ongoing (last dose L): - D0 known: PASS if L ≤ D0 − *N* (the last dose was at least *N* days before Day 0). Otherwise FAIL, with valid_until L + *N* − 1 day; Day 0 must be on or after L + *N*. For belimumab and telitacicept the reason adds that 28 days apply while the sponsor\'s classification is pending (14 if they are not B-cell depleting; PRIOR-THERAPIES.md note 1). - D0 unknown: PASS if L ≤ E − *N* (Day 0 cannot be before enrollment), else MISSING [dates.planned_day0]. - washout *N* days, ongoing: D0 unknown → MISSING [dates.planned_day0]. Otherwise deadline = D0 − *N* (the last permitted dose). - T ≤ deadline → the stop part, whose PASS has valid_until = deadline. - T > deadline, with a last_dose recorded (≤ T) and ≤ deadline → the stop part, without valid_until (reason: no further dose may be given before Day 0). - T > deadline otherwise → FAIL (it can no longer be stopped in time). - washout taper (glucocorticoids), ongoing → the stop part, without valid_until. Not ongoing → no part. - stop part: PASS if inv_able_to_stop_or_taper_prior_therapies = true, FAIL if false, MISSING [facts.inv_able_to_stop_or_taper_prior_therapies] if unrecorded. - washout review (agent other, not in the working Table 4; plasma_exchange): REVIEW, investigator, if ongoing or if last_dose ≥ E − unlisted_agent_lookback_days; otherwise no part. The REVIEW part has valid_until last_dose + unlisted_agent_lookback_days when not ongoing, none when ongoing. - If therapies is not reviewed, an extra part: MISSING [reviewed.therapies]. Rule: the parts, combined by § 1.3; PASS if there is no part.',
    ),
    "exc.uncontrolled_disease": (
        "Clinically significant or unstable or uncontrolled acute or chronic disease (e.g., hypothyroidism and diabetes) not due to SLE, or laboratory abnormality or planned surgical procedure which in the opinion of the Investigator could put the participant at undue risk or confounds the ability to interpret data from the study.",
        'Rule: boolean criterion inv_uncontrolled_other_disease, passing on false. In the IIM and SSc cohorts, "not due to SLE" reads "not due to the disease under study".',
    ),
    "exc.transplant": (
        "History of bone marrow/hematopoietic stem cell or solid organ transplantation.",
        "Rule: boolean criterion history_transplant, passing on false.",
    ),
    "exc.transfusion_refractory": (
        "Participants known to be refractory to platelet or red blood cell transfusions or who will refuse indicated transfusion support to manage cell counts following treatment.",
        "Rule: two boolean parts, each passing on false: transfusion_refractory, refuses_transfusion.",
    ),
    "exc.hepatitis_hiv": (
        "Positive serologic testing for hepatitis B, hepatitis C, and human immunodeficiency virus (HIV). Participants with positive serologic testing for hepatitis B or C, but with negative PCR may be considered.",
        "Parts: - HIV: positive → FAIL; negative → PASS; indeterminate → REVIEW, investigator; not usable → MISSING [labs.hiv_ag_ab]. - HBV: a usable hbv_dna detected → FAIL, whatever the serology (occult infection). Else, if hbsag or anti_hbc is positive: hbv_dna not_detected → REVIEW, investigator; not usable → MISSING [labs.hbv_dna]. Else if both are negative → PASS. Else if both are usable (one or both indeterminate) → REVIEW, investigator. Else MISSING [labs.hbsag and/or labs.anti_hbc]. - HCV: a usable hcv_rna detected → FAIL, whatever the serology. Else hcv_ab negative → PASS; indeterminate → REVIEW, investigator; positive → hcv_rna not_detected → REVIEW, investigator, not usable → MISSING [labs.hcv_rna]; hcv_ab not usable → MISSING [labs.hcv_ab]. Rule: parts combined by § 1.3.",
    ),
    "exc.immunodeficiency": (
        "Any form of primary, inherited immunodeficiency.",
        "Rule: boolean criterion primary_immunodeficiency, passing on false.",
    ),
    "exc.cardiac": (
        "… Symptomatic cardiac or vascular disease requiring medical intervention (e.g. unstable angina, myocardial infarction, cerebral vascular accident/stroke, atrial or ventricular arrhythmias, or congestive heart failure [New York Heart Association Classification Class [≥] II]) within 6 months prior to screening. Hemodynamically symptomatic pericardial effusion. Symptomatic electrocardiogram abnormality requiring medical intervention.",
        "Parts: - Events: FAIL if a cardiovascular_event is dated ≥ S − 6 months (an ongoing event is read as dated T, so it always counts). heart_failure events count only with nyha_class ≥ nyha_exclusion_min_class (default 2). No counting event: PASS if cardiovascular_event is reviewed, else MISSING [reviewed.cardiovascular_event]. - Boolean parts, each passing on false: symptomatic_pericardial_effusion, symptomatic_ecg_abnormality.",
    ),
    "exc.pml": (
        "History of progressive multifocal leukoencephalopathy (PML).",
        "Rule: boolean criterion history_pml, passing on false.",
    ),
    "exc.cirrhosis": (
        "… Child-Pugh Class B or C cirrhosis.",
        "Rule: cirrhosis unrecorded → MISSING [facts.cirrhosis]. False → PASS. True: child_pugh_score ≥ 7 (class B 7–9, class C 10–15) → FAIL; 5–6 (class A) → PASS; unrecorded → MISSING [facts.child_pugh_score]. The score is computed by § 10.7.",
    ),
    "exc.pulmonary": (
        "Symptomatic airway disease requiring medical intervention (e.g. severe chronic obstructive pulmonary disease or history of bronchospasm requiring intubation). Pleural effusion Grade 2 or higher (CTCAE v5: intervention indicated). History of pulmonary embolism requiring anticoagulant therapy within 6 months of enrollment.",
        "Parts: - boolean part symptomatic_airway_disease, passing on false (it includes any history of bronchospasm requiring intubation); - pleural_effusion_ctcae_grade (0–4): ≥ 2 → FAIL, 0–1 → PASS, unrecorded → MISSING [facts.pleural_effusion_ctcae_grade]; - PE: FAIL if a pulmonary_embolism event with required_anticoagulation = true is dated ≥ E − 6 months. No such event: PASS if pulmonary_embolism is reviewed, else MISSING [reviewed.pulmonary_embolism].",
    ),
    "exc.lung_function": (
        "Lung disease secondary to the autoimmune process should not lead to exclusion if forced vital capacity (FVC) and diffusing capacity of the lung for carbon monoxide (DLCO%) are greater than 40%. Borderline cases can be discussed with medical monitor and Eligibility Adjudication Committee.",
        "Autoimmune lung disease (ALD): yes if autoimmune_lung_disease = true or ild_progressive_raghu2022 is true (any date ≤ T; no recency needed here). No if autoimmune_lung_disease = false and the ILD fact is not true. Unknown otherwise. Rule: ALD no → PASS. ALD unknown → MISSING [facts.autoimmune_lung_disease]. ALD yes: one part per test (FVC % predicted, DLCO % predicted): value > 40 → PASS; 40 − *m* < value ≤ 40 → REVIEW, eac (borderline: the page allows discussion with the medical monitor and the EAC); value ≤ 40 − *m* → FAIL; not usable → MISSING [labs.<test>]. Parts combined by § 1.3.",
    ),
    "exc.hypertensive_crisis": (
        "History of hypertension crisis or hypertensive encephalopathy within 6 months prior to screening.",
        "Rule: FAIL if a hypertensive_crisis event (hypertensive encephalopathy included) is dated ≥ S − 6 months. Else PASS if hypertensive_crisis is reviewed, else MISSING [reviewed.hypertensive_crisis].",
    ),
    "exc.adherence_risk": (
        "Any psychiatric condition, chronic medical condition, disability, or non-medical condition that in the opinion of the Investigator would prevent safe treatment or make adherence with treatment and follow-up unlikely.",
        "Rule: boolean criterion inv_adherence_risk, passing on false.",
    ),
    "exc.pregnancy": (
        "Pregnant or breastfeeding or planning to become pregnant or breastfeed during the first 12 months after study treatment. Male participants must not plan for partner pregnancy for 6 months after receiving LD or ALLO-329, whichever is longer.",
        "Rule, female: (all females, whatever their childbearing potential): boolean parts breastfeeding and plans_pregnancy_or_breastfeeding_12m, each passing on false, plus a FAIL part if the selected pregnancy_test is usable and positive. For a woman not of childbearing potential (§ 10.2) an unrecorded plans_pregnancy_or_breastfeeding_12m counts as false (the question is moot); breastfeeding is still needed. Rule, male: boolean criterion plans_partner_pregnancy_6m, passing on false. For a man with male_sterile = true an unrecorded value counts as false.",
    ),
    "exc.long_term_followup": (
        "Unwilling to participate in an extended safety monitoring period up to a total of 15 years after administration of ALLO-329.",
        "Rule: boolean criterion willing_ltfu_15y, passing on true.",
    ),
    "sle.exc.cns": (
        "Active disease involving CNS (eg CNS lupus and its sequelae) within the last 6 months",
        "Rule: FAIL if a cns_lupus event (date = the most recent day CNS disease or its sequelae were active; with ongoing = true, the onset, and the event is read as dated T) is dated ≥ E − 6 months. Else PASS if cns_lupus is reviewed, else MISSING [reviewed.cns_lupus].",
    ),
    "sle.exc.drug_induced": (
        "Lupus that is drug-induced",
        "Rule: boolean criterion drug_induced_lupus, passing on false.",
    ),
    "sle.exc.ln_dialysis": (
        "If LN: History of dialysis within 12 months prior to signing the ICF or expected need for renal replacement therapy (dialysis or renal transplant) within a 12-month period after enrollment.",
        "Parts: - Dialysis: FAIL if a dialysis event (date = last session) is dated ≥ C − 12 months. None: PASS if dialysis is reviewed, else MISSING [reviewed.dialysis]. - boolean part inv_expected_rrt_within_12m, passing on false.",
    ),
    "sle.exc.ln_other_kidney": (
        "History of, or current kidney diseases (other than LN) that in the opinion of the Investigator could interfere with the LN assessment and confound the disease activity assessment (e.g. diabetic nephropathy).",
        "Rule: boolean criterion inv_other_kidney_disease_confounding, passing on false.",
    ),
    "sle.exc.ln_chronicity": (
        "NIH chronicity index score of 3+ in any of the following domains: glomerular sclerosis, glomerular fibrous crescents, tubular atrophy, and/or interstitial fibrosis.",
        "Rule: - No biopsy: PASS if kidney_biopsy is reviewed (reason: chronicity cannot be assessed without a biopsy; the missing biopsy is decided within the sle.ln_biopsy EAC exception, so the EAC decides once); else MISSING [reviewed.kidney_biopsy]. - With B, in this order: any recorded component = 3 → FAIL; all four components recorded → PASS (all ≤ 2); total recorded and ≥ 9 → FAIL (four components ≤ 2 sum to at most 8); total recorded and ≤ 2 → PASS; otherwise MISSING [events.kidney_biopsy.<component> for each unrecorded component].",
    ),
    "iim.exc.other_myositis": (
        "A myositis other than IIM classification.",
        "Rule: boolean criterion iim_other_myositis, passing on false. The investigator records true for a myositis or myopathy other than the eligible IIM: for example inclusion-body myositis, drug-induced or toxic, infectious, metabolic or endocrine myopathy, or muscular dystrophy.",
    ),
    "iim.exc.damage": (
        "Non-reversible, unrelated or weakness not amenable to assessment (damage index > 7/10).",
        "Parts: dated fact mdi_global_damage (Myositis Damage Index, physician's global damage, 0–10) usable: > 7 → FAIL, ≤ 7 → PASS, not usable → MISSING [facts.mdi_global_damage]. Boolean part inv_iim_weakness_not_assessable, passing on false.",
    ),
    "iim.exc.anti_tif1g": (
        "Dermatomyositis with presence of anti-TIF1 gamma antibody.",
        "Rule: the result is positive if numeric > uln or qualitative positive. - no result: PASS if iim_subtype is recorded and is not dermatomyositis or amyopathic_dermatomyositis; else MISSING [labs.anti_tif1g]; - negative (numeric ≤ uln, or negative) → PASS; - positive or indeterminate: iim_subtype unrecorded → MISSING [facts.iim_subtype]; not DM or amyopathic DM → PASS; DM or amyopathic DM → FAIL if positive, REVIEW (investigator) if indeterminate.",
    ),
    "ssc.exc.pah": (
        "Pulmonary arterial hypertension requiring treatment.",
        "Rule: boolean criterion pah_requiring_treatment, passing on false.",
    ),
    "ssc.exc.gi": (
        "Rapidly progressive or severe SSc gastrointestinal involvement.",
        "Rule: boolean criterion ssc_severe_gi, passing on false. The investigator judges, e.g. intestinal pseudo-obstruction, malabsorption requiring nutritional support, or parenteral nutrition.",
    ),
    "ssc.exc.renal_crisis": (
        "Prior scleroderma renal crisis.",
        "Rule: boolean criterion history_scleroderma_renal_crisis, passing on false.",
    ),
}
