"""Regression tests for the 16 attack classes of landscape §D, each written as the attack a hostile
server (or a stranger on the web) would send. Where an attack is already sent by a test elsewhere in the
suite, this index names that test instead of repeating it.

| §D | Attack class                               | Tests (path::name)                                                     |
|----|--------------------------------------------|------------------------------------------------------------------------|
| 1  | Actor/key mismatch impersonation           | integration/test_inbox.py::test_forged_activities_are_refused_and_not_stored |
|    |                                            |   ("key owner is not the actor", "signed with another key")             |
|    |                                            | security/test_attack_classes.py::test_a_key_document_on_the_attackers_server_claiming_the_victim_as_owner_is_refused |
|    |                                            | unit/test_fetch.py::test_refuses_redirects_even_to_a_valid_document (an actor URL redirecting elsewhere) |
| 2  | Signature not bound to the request         | unit/test_signatures.py::test_changed_body_is_rejected_by_the_digest, |
|    |                                            |   ::test_path_changed_after_signing_is_rejected, ::test_host_changed_after_signing_is_rejected, |
|    |                                            |   ::test_date_70_minutes_old_is_rejected, ::test_signature_not_covering_date_or_created_is_rejected |
|    |                                            | integration/test_inbox.py::test_forged_activities_are_refused_and_not_stored ("body tampered after signing") |
|    |                                            | integration/test_inbox.py::test_the_same_activity_on_the_shared_and_the_personal_inbox_is_stored_once |
|    |                                            | security/test_attack_classes.py::test_a_captured_delivery_replayed_hours_later_is_refused_and_replayed_at_once_changes_nothing |
|    |                                            | integration/test_inbox_replays.py::test_a_valid_delivery_signed_for_another_server_and_replayed_here_is_refused, |
|    |                                            |   ::test_a_delivery_whose_signature_leaves_out_the_request_target_is_refused |
| 3  | Self-reported id / origin spoofing on fetch | unit/test_fetch.py::test_refuses_a_document_whose_id_is_not_the_url_fetched, |
|    |                                            |   ::test_refuses_redirects_even_to_a_valid_document, ::test_refuses_an_actor_claiming_to_live_on_another_host |
|    |                                            | security/test_attack_classes.py::test_a_document_served_under_one_url_claiming_another_id_is_not_stored_as_either |
| 4  | Content-Type confusion                     | unit/test_fetch.py::test_refuses_other_media_types_like_mastodon |
|    |                                            | integration/test_manage_profile.py::test_an_avatar_upload_becomes_the_coalitions_icon (served as image/png), |
|    |                                            |   ::test_a_bad_avatar_is_refused_next_to_the_field_and_nothing_changes (an SVG is refused) |
|    |                                            | security/test_attack_classes.py::test_an_uploaded_file_is_never_served_as_an_activitypub_document |
| 5  | Embedded-object forgery (Create/Announce)  | security/test_attack_classes.py::test_a_boost_embedding_a_doctored_copy_stores_the_origins_version |
|    |                                            | integration/test_inbound_announces.py::test_boosts_that_must_not_be_stored ("author-on-another-server") |
|    |                                            | integration/test_inbound_content.py::test_a_post_attributed_to_someone_else_is_ignored |
|    |                                            | integration/test_inbox.py::test_forged_activities_are_refused_and_not_stored ("activity id on another host") |
| 6  | Forged Delete/Update; resurrection         | security/test_attack_classes.py::test_only_the_owner_may_delete_or_update_a_post |
|    |                                            | integration/test_inbound_content.py::test_posts_from_a_followed_account_are_stored_updated_and_tombstoned |
|    |                                            | federation/test_hub_safeguards.py::test_a_neighbour_on_the_same_host_cannot_make_the_hub_retract_a_members_call, |
|    |                                            |   ::test_a_delete_by_someone_else_retracts_only_when_the_origin_confirms_it_is_gone |
| 7  | Domain normalisation / look-alike handles  | unit/test_hosts.py (trailing dot, Unicode vs punycode, refused names, look-alike local names) |
|    |                                            | unit/test_webfinger.py::test_parse_handle_refuses_anything_else |
|    |                                            | integration/test_inbox_domain_blocks.py::test_a_follow_from_a_userinfo_actor_id_of_a_blocked_server_is_refused_and_never_answered, |
|    |                                            |   ::test_userinfo_anywhere_in_an_activitys_ids_is_refused, ::test_a_block_covers_every_spelling_of_the_blocked_host, |
|    |                                            |   ::test_no_delivery_reaches_a_blocked_server_whatever_spelling_it_was_queued_under |
|    |                                            | federation/test_lookup.py::test_a_handle_of_one_server_pointing_at_another_servers_actor_is_not_shown_as_its_handle |
| 8  | SSRF via remote fetches                    | unit/test_addresses.py::test_private_and_special_addresses_are_forbidden, |
|    |                                            |   ::test_guard_applies_to_each_redirect_hop, ::test_backend_connects_to_the_address_it_checked_not_the_name |
|    |                                            | integration/test_remote_calls.py::test_odd_and_private_links_are_refused_with_400, |
|    |                                            |   ::test_a_name_that_resolves_to_a_private_address_is_refused_with_400 |
|    |                                            | integration/test_inbox_jsonld.py::test_a_context_url_on_a_private_address_is_never_requested |
| 9  | JSON-LD / LD-signature confusion           | integration/test_inbox_jsonld.py::test_an_activity_whose_context_aliases_actor_is_refused_before_any_key_is_fetched |
|    |                                            | unit/test_jsonld_documents.py::test_graph_included_and_reverse_are_refused_wherever_they_are, |
|    |                                            |   ::test_what_is_verified_and_what_is_processed_are_one_document, ::test_a_context_that_changes_a_core_term_is_refused_with_a_400 |
| 10 | Resource exhaustion / DoS                  | security/test_hostile_json.py (100,000-deep and 900-deep JSON, deep actor documents, NaN, |
|    |                                            |   lone surrogates, object-valued type, names longer than their columns) |
|    |                                            | security/test_fuzz_inbound.py (Hypothesis: activity shapes and signature headers; bench/fuzz.py) |
|    |                                            | integration/test_inbox.py::test_a_body_over_one_megabyte_is_413 |
|    |                                            | unit/test_fetch.py::test_stops_reading_an_undeclared_body_once_past_the_limit, |
|    |                                            |   ::test_limit_counts_inflated_bytes_so_gzip_bombs_are_refused |
|    |                                            | unit/test_jsonld_documents.py::test_a_document_over_the_json_ld_caps_is_refused |
|    |                                            | federation/test_roster_discovery.py::test_a_roster_page_that_leads_to_itself_stops, ::test_a_huge_roster_is_cut_at_the_limits |
|    |                                            | security/test_sessions_and_logins.py::test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out |
|    |                                            | unit/test_outbound_limits.py::test_an_answer_that_drips_a_byte_a_second_ends_at_the_deadline, |
|    |                                            |   ::test_an_endless_answer_is_cut_at_the_cap_without_holding_it_in_memory |
|    |                                            | federation/test_delivery_deadlines.py::test_an_inbox_that_drips_its_answer_fails_at_the_deadline_while_the_worker_goes_on, |
|    |                                            |   ::test_a_huge_answer_to_a_delivery_is_not_read |
|    |                                            | integration/test_inbound_head_of_line.py::test_a_boost_of_a_post_from_a_slow_origin_does_not_hold_up_an_unrelated_follow |
|    |                                            | integration/test_inbox_rate_limits.py::test_a_flood_from_one_server_gets_429_while_another_server_is_still_accepted, |
|    |                                            |   ::test_bytes_count_too |
|    |                                            | federation/test_pledge_mirror_attacks.py::test_an_endless_next_is_followed_only_up_to_the_page_limit |
| 11 | XSS / HTML injection from remote content   | security/test_remote_links.py (javascript: urls on the hub page and in the reader) |
|    |                                            | security/test_remote_text.py (script in every field through ICS, Atom, API and the call page; |
|    |                                            |   Unicode line breaks in ICS values) |
|    |                                            | integration/test_public_pages.py::test_remote_text_is_shown_as_text_never_as_markup, |
|    |                                            |   ::test_stored_html_is_sanitised_again_when_shown, ::test_pages_carry_a_strict_content_security_policy |
|    |                                            | integration/test_feeds_atom.py::test_remote_names_and_descriptions_cannot_change_the_xml |
|    |                                            | integration/test_feeds_calendars.py::test_remote_text_cannot_add_events_or_properties_to_the_instance_calendar |
|    |                                            | security/test_sessions_and_logins.py::test_a_session_cookie_captured_before_logout_does_not_work_after_it |
| 12 | Media processing → file write / RCE        | unit/test_manage_avatars.py::test_a_decompression_bomb_is_refused_from_its_header, ::test_metadata_is_stripped, |
|    |                                            |   ::test_anything_that_does_not_decode_as_an_accepted_image_is_refused |
|    |                                            | security/test_attack_classes.py::test_attachments_named_like_paths_are_never_fetched_or_written |
| 13 | Block/suspension bypass through boosts     | federation/test_moderation_hubs.py::test_a_coalition_blocked_by_an_instance_is_not_shown_nor_reboosted_when_an_allowed_hub_boosts_it |
|    |                                            | integration/test_moderation_blocks.py::test_an_actor_blocked_by_the_admins_vanishes_and_what_it_sends_next_is_refused, |
|    |                                            |   ::test_a_domain_blocked_after_its_calls_were_stored_disappears_from_pages_feeds_and_api |
|    |                                            | integration/test_inbox_domain_blocks.py::test_a_hub_never_boosts_the_call_of_a_member_on_a_blocked_server |
| 14 | Amplification through auto-boosting hubs   | federation/test_hub_safeguards.py::test_a_members_100_calls_in_a_burst_are_boosted_at_the_rate_and_the_rest_wait_for_review, |
|    |                                            |   ::test_a_followers_only_post_is_never_boosted_nor_held, ::test_a_post_addressed_to_twenty_groups_is_never_boosted, |
|    |                                            |   ::test_twenty_repeated_announces_of_a_call_send_its_roll_up_notice_once |
| 15 | Report (Flag) retaliation and leakage      | integration/test_moderation_reports.py::test_a_flag_flood_from_one_host_is_capped_per_hour_and_other_hosts_still_heard, |
|    |                                            |   ::test_an_outbound_report_is_sent_by_the_instance_actor_and_names_nobody_here |
| 16 | Key-fetch amplification                    | integration/test_key_fetch_limits.py::test_posts_with_distinct_unknown_key_ids_fetch_at_most_the_limit_from_that_host, |
|    |                                            |   ::test_a_key_id_on_a_third_party_server_is_refused_before_anything_is_fetched, |
|    |                                            |   ::test_signed_gets_with_key_ids_at_a_third_party_reflect_at_most_the_limit_at_it |
"""  # noqa: E501 - a table of test names, one per line
