# Tracemark web pages (fr): the dashboard area. Same keys in every language (tests/web.rs).
dash-title = Tableau de bord
dash-overdue-title = Traçages en retard
dash-overdue-count = { $count ->
    [0] Aucun délai n’est dépassé.
    [one] Un délai est dépassé.
   *[other] { $n } délais sont dépassés.
}
dash-overdue-empty = Aucun délai n’est dépassé. Bon travail.
dash-overdue-what = { $obligation } due par { $state }
dash-due = échéance
dash-traces-title = Traçages en cours
dash-traces-count = { $count ->
    [0] Aucun traçage n’est en cours.
    [one] Un traçage est en cours.
   *[other] { $n } traçages sont en cours.
}
dash-traces-empty = Aucun traçage n’est en cours pour le moment. Une nouvelle demande peut être lancée à tout moment.
dash-trace-state = { $role }, { $status }
dash-traces-all = Tous les traçages
dash-hits-title = Résultats sur des articles déclarés perdus ou volés par votre organisme
dash-hits-empty = Personne n’a rencontré d’article que votre organisme a déclaré perdu ou volé. Vous le verrez ici si cela arrive.
dash-hit-search = trouvé lors d’une recherche par { $agency }
dash-hit-seizure = enregistré comme saisi ou récupéré par { $agency }
dash-imports-title = Importations récentes
dash-imports-empty = Rien n’a encore été enregistré dans le registre.
dash-import-summary = { $count ->
    [one] Un enregistrement
   *[other] { $n } enregistrements
} (entrées { $first } à { $last } du registre)
dash-nothing = Bienvenue. Utilisez le menu ci-dessus pour rechercher dans le registre.
