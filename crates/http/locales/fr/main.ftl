# Pages web de Tracemark : français.

## Mise en page
skip-to-content = Aller au contenu principal
nav-label = Navigation principale
nav-dashboard = Tableau de bord
nav-search = Recherche
nav-record = Enregistrer
nav-traces = Traçages
nav-admin = Administration
sign-out = Se déconnecter
signed-in-as = Connecté : { $name } ({ $agency })
language-label = Langue
language-apply = Changer

## Connexion
sign-in-title = Connexion
sign-in-submit = Se connecter
field-account = Nom du compte
field-password = Mot de passe
field-totp = Code d’authentification
field-totp-hint = Le code à 6 chiffres de votre application d’authentification, si votre compte en a une.
form-errors-title = Il y a un problème
error-account-required = Saisissez le nom de votre compte.
error-password-required = Saisissez votre mot de passe.
error-bad-credentials = Le nom du compte ou le mot de passe est incorrect. Vérifiez les deux et réessayez.
error-totp-required = Votre rôle exige le code à 6 chiffres de votre application d’authentification.
error-totp-wrong = Ce code est incorrect. Saisissez le code que votre application affiche maintenant.
error-totp-replayed = Ce code a déjà été utilisé. Attendez le code suivant et saisissez-le.
error-locked = Ce compte est verrouillé après plusieurs échecs de connexion. Réessayez dans { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
error-enrolment-required = Votre rôle exige un second facteur et votre compte n’en a pas encore. Demandez à un administrateur de l’enregistrer.
error-csrf = Ce formulaire a expiré ou ne vient pas de ce site. Rechargez la page et réessayez.

## Recherche
search-title = Rechercher dans le registre
search-label = Marquage ou numéro de série
search-hint = Saisissez-le tel que vous le lisez, dans n’importe quelle écriture. Utilisez ? pour un caractère illisible et * pour une suite de caractères.
search-submit = Rechercher
search-total = { $count ->
    [0] Aucune arme ne correspond.
    [one] Un résultat.
   *[other] { $count } résultats.
}
search-distance = { $count ->
    [one] un caractère diffère
   *[other] { $count } caractères diffèrent
}
col-marking = Marquage
col-item = Arme
col-description = Marque, modèle, calibre
col-status = Statut
match-exact = Correspondances exactes
match-exact-reason = Le marquage se lit exactement comme vous l’avez saisi (sans tenir compte des espaces, des tirets ni de la casse).
match-normalized = Même marquage dans une autre écriture
match-normalized-reason = Identique une fois égalisées les lettres semblables d’autres écritures et les erreurs de lecture courantes, par exemple le Р cyrillique lu comme un P latin, ou O lu comme 0.
match-wildcard = Correspondances du motif
match-wildcard-reason = Le marquage correspond au motif : ? remplace un caractère, * une suite de caractères.
match-fuzzy = Correspondances proches
match-fuzzy-reason = Le marquage diffère d’un ou deux caractères : une erreur de lecture, un caractère manquant ou en trop.
alert-missing = Attention : { $event }. Contactez { $contact }.
alert-contact-agency = l’organisme déclarant, { $agency }
alert-contact-poc = le point de contact national
error-search-query = Cette recherche ne peut pas être lancée. Vérifiez le marquage : il faut au moins une lettre ou un chiffre.

## Arme
item-title = Arme
item-identification = Identification
item-kind = Catégorie
item-type = Type
item-make = Marque
item-model = Modèle
item-calibre = Calibre
item-country = Pays de fabrication
item-year = Année de fabrication
item-national-id = Identifiant national
item-status = Statut
item-holder = Détenteur actuel
item-markings = Marquages
marking-kind = Nature
marking-as-seen = Tel que lu
marking-normalized = Normalisé
marking-visual = Clé de recherche
marking-component = Pièce
marking-legibility = Lisibilité
custody-title = Chaîne de détention
custody-purpose-label = Motif de la consultation
custody-purpose-hint = La chaîne de détention nomme des détenteurs. Indiquez pourquoi vous en avez besoin (par exemple un numéro de dossier) ; ce motif est enregistré.
custody-show = Afficher la chaîne de détention
custody-empty = Aucun événement n’est enregistré pour cette arme.
custody-void = corrigé
custody-from = De
custody-to = À
custody-place = Lieu
custody-status-after = Statut ensuite
custody-ledger = Entrée du registre { $index }
custody-diversion-reported = Le contrôle a été perdu le { $date } (déclaré).
custody-diversion-seized = Saisie le { $date } sans déclaration préalable de perte ou de vol.
error-purpose-invalid = Le motif doit compter au plus { $max } caractères imprimables.

## Erreurs
error-title = Un problème est survenu
error-forbidden = Vous ne pouvez pas consulter ceci : votre rôle ou votre organisme n’y donne pas accès.
error-not-found = Cette page ou cette arme n’existe pas.
error-unavailable = La base de données du registre ne répond pas. Réessayez dans un instant.
error-internal = Le serveur a échoué. Veuillez prévenir votre administrateur.
error-bad-request = Cette demande ne peut pas être traitée.
error-reference = Référence pour votre administrateur : { $id }
error-home = Aller à la page d’accueil

## Dates
date-day = { $day } { $month } { $year }
date-month = { $month } { $year }
month-1 = janvier
month-2 = février
month-3 = mars
month-4 = avril
month-5 = mai
month-6 = juin
month-7 = juillet
month-8 = août
month-9 = septembre
month-10 = octobre
month-11 = novembre
month-12 = décembre

## Statut d’une arme
status-recorded = enregistrée
status-in-stock = en stock
status-in-service = en service
status-civilian-held = détenue par un civil
status-exported = exportée
status-lost = perdue
status-stolen = volée
status-recovered = retrouvée
status-seized = saisie
status-surrendered = remise volontairement
status-deactivated = neutralisée
status-destroyed = détruite

## Événements de la chaîne de détention
event-manufactured = Fabrication
event-imported = Importation
event-exported = Exportation
event-transferred = Transfert
event-assigned = Affectation
event-returned = Restitution
event-reported-lost = Déclaration de perte
event-reported-stolen = Déclaration de vol
event-recovered = Récupération
event-seized = Saisie
event-surrendered = Remise volontaire
event-marked = Marquage
event-component-replaced = Remplacement d’une pièce
event-converted = Transformation
event-deactivated = Neutralisation
event-destroyed = Destruction
event-corrected = Correction

## Natures de marquage
mark-serial = numéro de série
mark-manufacturer = fabricant
mark-country = pays
mark-year = année
mark-model = modèle
mark-calibre = calibre
mark-import = marquage d’importation
mark-proof = poinçon d’épreuve
mark-factory-code = code d’usine
mark-secondary = marquage secondaire
mark-state-ownership = propriété de l’État
mark-lot = numéro de lot
mark-headstamp = marquage de culot
mark-code-2d = code 2D
mark-rfid = étiquette RFID
mark-covert = marquage caché
mark-other = autre

## Lisibilité
legibility-clear = lisible
legibility-partial = partiellement lisible
legibility-obliterated = effacé
legibility-restored = restauré
